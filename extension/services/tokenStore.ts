// The portal token lives in VS Code's SecretStorage only (the OS keychain on desktop),
// one per server URL; never in settings, workspace state or files.
import type * as vscode from 'vscode';

export class TokenStore {
  private readonly changed: vscode.EventEmitter<void>;
  readonly onDidChange: vscode.Event<void>;

  constructor(
    private readonly secrets: vscode.SecretStorage,
    makeEmitter: () => vscode.EventEmitter<void>,
  ) {
    this.changed = makeEmitter();
    this.onDidChange = this.changed.event;
    secrets.onDidChange((e) => {
      if (e.key.startsWith(TokenStore.PREFIX)) this.changed.fire();
    });
  }

  static readonly PREFIX = 'odcSettings.token:';

  private key(serverUrl: string): string {
    return TokenStore.PREFIX + serverUrl;
  }

  get(serverUrl: string): Thenable<string | undefined> {
    return this.secrets.get(this.key(serverUrl));
  }

  async set(serverUrl: string, token: string): Promise<void> {
    await this.secrets.store(this.key(serverUrl), token);
  }

  async delete(serverUrl: string): Promise<void> {
    await this.secrets.delete(this.key(serverUrl));
  }

  dispose(): void {
    this.changed.dispose();
  }
}
