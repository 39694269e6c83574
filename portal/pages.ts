// The portal's pages. Each is a full page load (links are plain links), rendered from the
// address by route(); nothing is kept between pages but the session cookie, which the page
// cannot read. Text only through the DOM builder: nothing from the server is parsed as markup.
import { z } from 'zod';
import { appsResponseSchema, createTokenResponseSchema, ROLES, stagesResponseSchema, tokenInfoSchema, type Role, type Scope, type TokenInfo } from '../common/api';
import type { SessionResponse } from '../common/session';
import { formatWhen, h, icon, setChildren, type Child } from '../webview/dom';
import { api, enc, isStatus, PortalError, signIn, signOut } from './api';
import { mountEditor } from './browserHost';

const auditRecordSchema = z.object({
  id: z.number(),
  at: z.string(),
  tokenId: z.string().nullable(),
  tokenName: z.string().nullable(),
  action: z.string(),
  outcome: z.string(),
  app: z.string().nullable(),
  stage: z.string().nullable(),
  setting: z.string().nullable(),
  revision: z.number().nullable(),
  version: z.number().nullable(),
});
const auditPageSchema = z.object({ events: z.array(auditRecordSchema) });
const verifySchema = z.object({ ok: z.boolean(), events: z.number(), firstBadEvent: z.number().optional() });
const tokensSchema = z.object({ tokens: z.array(tokenInfoSchema) });

const AUDIT_PAGE = 50;

export interface PageContext {
  root: HTMLElement;
  session: SessionResponse | null;
  path: string;
  query: URLSearchParams;
}

const inScope = (scope: Scope, name: string) => scope === '*' || scope.includes(name);
const scopeText = (s: Scope) => (s === '*' ? 'all' : s.join(', ') || 'none');

/** A same-origin path to go back to after sign-in (never another site). */
function safeNext(next: string | null): string {
  return next && /^\/(?!\/)[^\\]*$/.test(next) && !next.startsWith('/signin') ? next : '/apps';
}

// ---- layout -------------------------------------------------------------------------------

function layout(ctx: PageContext, title: string, ...content: Child[]): HTMLElement {
  document.title = `${title} · ODC Portal`;
  const s = ctx.session;
  const link = (href: string, text: string) => h('a', { href, ...(ctx.path === href || ctx.path.startsWith(`${href}/`) ? { 'aria-current': 'page' } : {}) }, text);
  const main = h('main', { id: 'content', tabindex: '-1' }, ...content);
  const header = h(
    'header',
    { class: 'topbar' },
    h('a', { class: 'skip', href: '#content' }, 'Skip to content'),
    h('a', { class: 'brand', href: s ? '/apps' : '/signin' }, icon('settings'), ' ODC Portal'),
    s
      ? h(
          'nav',
          { 'aria-label': 'Portal' },
          h('ul', {}, h('li', {}, link('/apps', 'Apps')), s.role === 'admin' ? h('li', {}, link('/tokens', 'Tokens')) : null, s.role === 'admin' ? h('li', {}, link('/audit', 'Audit')) : null),
        )
      : null,
    h('span', { class: 'spacer' }),
    s ? h('span', { class: 'who muted' }, `${s.tokenName} (${s.role})`) : null,
    s ? signOutButton() : null,
  );
  setChildren(ctx.root, header, main);
  ctx.root.removeAttribute('aria-busy');
  return main;
}

function signOutButton(): HTMLElement {
  const b = h('button', { type: 'button', class: 'btn secondary', id: 'sign-out' }, icon('sign-out'), ' Sign out');
  b.addEventListener('click', () => {
    b.setAttribute('disabled', '');
    void signOut()
      .catch(() => undefined)
      // A new document: nothing of this page stays in memory. Back loads this address afresh
      // (pages are never cached), which then has nothing to show but the sign-in page.
      .finally(() => location.assign('/signin?signedOut=1'));
  });
  return b;
}

function banner(kind: 'error' | 'info', ...content: Child[]): HTMLElement {
  return h('div', { class: `banner ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, h('div', {}, icon(kind === 'error' ? 'error' : 'info'), ' ', ...content));
}

function deniedPage(ctx: PageContext, why: string): void {
  const main = layout(ctx, 'Not allowed', h('h1', {}, 'Not allowed (403)'), banner('error', why), h('p', {}, h('a', { href: '/apps' }, 'Back to your apps')));
  main.dataset.page = 'forbidden';
}

function notFoundPage(ctx: PageContext, what = 'There is no page at this address.'): void {
  const main = layout(ctx, 'Not found', h('h1', {}, 'Not found (404)'), h('p', {}, what), h('p', {}, h('a', { href: '/apps' }, 'Back to your apps')));
  main.dataset.page = 'not-found';
}

function errorPage(ctx: PageContext, err: unknown): void {
  if (isStatus(err, 403)) return deniedPage(ctx, (err as Error).message);
  if (isStatus(err, 404)) return notFoundPage(ctx, (err as Error).message);
  layout(ctx, 'Error', h('h1', {}, 'Something went wrong'), banner('error', err instanceof Error ? err.message : 'Unexpected error.'), h('p', {}, h('a', { href: location.pathname }, 'Try again')));
}

function table(caption: string, head: string[], rows: HTMLElement[], id?: string): HTMLElement {
  return h(
    'div',
    // Scrolls sideways on a narrow screen: focusable, so the keyboard can scroll it too.
    { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
    h('table', { class: 'list', ...(id ? { id } : {}) }, h('caption', { class: 'sr-only' }, caption), h('thead', {}, h('tr', {}, ...head.map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, ...rows)),
  );
}

// ---- sign in ------------------------------------------------------------------------------

function signInPage(ctx: PageContext): void {
  const input = h('input', { id: 'token', name: 'token', type: 'password', class: 'field', autocomplete: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'token-help' });
  const error = h('div', { id: 'signin-error', role: 'alert' });
  const button = h('button', { type: 'submit', class: 'btn', id: 'sign-in' }, icon('account'), ' Sign in');
  const form = h(
    'form',
    { id: 'signin-form', class: 'card', novalidate: true },
    h('label', { for: 'token' }, 'Token'),
    input,
    h('p', { id: 'token-help', class: 'muted' }, 'Paste the token an admin gave you (it starts with odcp_). It is sent once; the portal then keeps you signed in with a session that ends after 30 minutes without use, after 8 hours, or when you sign out. The token is not stored in this browser.'),
    error,
    h('div', { class: 'actions' }, button),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const token = input.value.trim();
    if (!token) {
      setChildren(error, banner('error', 'Paste a token first.'));
      input.focus();
      return;
    }
    button.setAttribute('disabled', '');
    setChildren(error);
    void signIn(token).then(
      () => {
        input.value = '';
        location.replace(safeNext(ctx.query.get('next')));
      },
      (err: unknown) => {
        input.value = '';
        button.removeAttribute('disabled');
        const msg = isStatus(err, 401) ? 'That token is not valid or was revoked. Check it and try again.' : err instanceof Error ? err.message : 'Could not sign in.';
        setChildren(error, banner('error', msg));
        input.focus();
      },
    );
  });
  const notes: Child[] = [];
  if (ctx.query.has('signedOut')) notes.push(banner('info', 'You are signed out.'));
  else if (ctx.query.has('next')) notes.push(banner('info', 'Sign in to continue (your session ended or you are not signed in yet).'));
  const main = layout(ctx, 'Sign in', h('h1', {}, 'Sign in to the ODC Portal'), ...notes, form);
  main.dataset.page = 'signin';
  input.focus();
}

// ---- apps ---------------------------------------------------------------------------------

async function appsPage(ctx: PageContext): Promise<void> {
  const { apps } = await api('GET', '/apps', { schema: appsResponseSchema });
  const rows = apps.map((a) =>
    h('tr', { 'data-app': a.key }, h('td', {}, h('a', { href: `/apps/${enc(a.key)}` }, a.name)), h('td', {}, h('code', {}, a.key)), h('td', {}, String(a.revision)), h('td', {}, formatWhen(a.publishedAt))),
  );
  const main = layout(
    ctx,
    'Apps',
    h('h1', {}, 'Apps'),
    h('p', { class: 'muted' }, "The published apps in your token's scope. Choose one to set its values per stage."),
    apps.length ? table('Apps', ['App', 'Key', 'Revision', 'Published'], rows, 'apps') : h('p', { class: 'empty' }, 'No app in your scope has been published yet. Publish one from VS Code ("ODC: Publish App").'),
  );
  main.dataset.page = 'apps';
}

// ---- an app -------------------------------------------------------------------------------

function appNav(ctx: PageContext, app: string, current: 'settings' | 'coverage' | 'audit'): HTMLElement {
  const item = (key: typeof current, href: string, text: string) => h('li', {}, h('a', { href, ...(key === current ? { 'aria-current': 'page' } : {}) }, text));
  const mayAudit = ctx.session?.role === 'admin' || ctx.session?.role === 'developer';
  return h(
    'nav',
    { class: 'subnav', 'aria-label': 'App' },
    h('ul', {}, item('settings', `/apps/${enc(app)}`, 'Settings'), item('coverage', `/apps/${enc(app)}/coverage`, 'Coverage'), mayAudit ? item('audit', `/apps/${enc(app)}/audit`, 'Audit') : null),
  );
}

async function appPage(ctx: PageContext, app: string, stage: string | undefined, coverage: boolean): Promise<void> {
  const s = ctx.session!;
  if (!inScope(s.apps, app)) return deniedPage(ctx, `Your token's scope does not include the app "${app}".`);
  if (stage !== undefined) {
    if (!inScope(s.stages, stage)) return deniedPage(ctx, `Your token's scope does not include the stage "${stage}" of ${app}.`);
    const { stages } = await api('GET', '/stages', { schema: stagesResponseSchema });
    if (!stages.some((x) => x.key === stage)) return notFoundPage(ctx, `There is no stage "${stage}". The stages are ${stages.map((x) => x.name).join(', ')}.`);
  }
  const editorRoot = h('div', { id: 'app', class: 'editor', 'aria-busy': 'true' });
  const main = layout(ctx, coverage ? `${app}: coverage` : app, appNav(ctx, app, coverage ? 'coverage' : 'settings'), editorRoot);
  main.dataset.page = coverage ? 'coverage' : 'settings';
  mountEditor(editorRoot, {
    app,
    ...(stage ? { stage } : {}),
    coverage,
    onNavigate: ({ stage: st, coverage: cov }) => {
      const path = cov ? `/apps/${enc(app)}/coverage` : st ? `/apps/${enc(app)}/stages/${enc(st)}` : `/apps/${enc(app)}`;
      if (path !== location.pathname) history.replaceState(null, '', path);
      main.dataset.page = cov ? 'coverage' : 'settings';
    },
  });
}

// ---- audit --------------------------------------------------------------------------------

function auditTable(events: z.infer<typeof auditRecordSchema>[], withApp: boolean): HTMLElement {
  const rows = events.map((e) =>
    h(
      'tr',
      { 'data-event': String(e.id) },
      h('td', {}, String(e.id)),
      h('td', {}, formatWhen(e.at)),
      h('td', {}, e.action),
      h('td', {}, h('span', { class: `outcome ${e.outcome}` }, e.outcome)),
      withApp ? h('td', {}, e.app ?? '') : null,
      h('td', {}, e.stage ?? ''),
      h('td', {}, e.setting ?? ''),
      h('td', {}, e.version === null ? (e.revision === null ? '' : `rev ${e.revision}`) : `v${e.version}`),
      h('td', {}, e.tokenName ?? 'no token'),
    ),
  );
  const head = ['#', 'When', 'Action', 'Outcome', ...(withApp ? ['App'] : []), 'Stage', 'Setting', 'Version', 'By'];
  return table('Audit events, newest first', head, rows, 'audit-events');
}

function pager(events: Array<{ id: number }>, base: string, query: URLSearchParams): HTMLElement {
  const last = events[events.length - 1];
  return h(
    'nav',
    { class: 'pager', 'aria-label': 'Audit pages' },
    query.has('before') ? h('a', { href: base, class: 'btn secondary' }, 'Newest') : null,
    last && events.length >= AUDIT_PAGE ? h('a', { href: `${base}?before=${last.id}`, class: 'btn secondary', id: 'older' }, 'Older events') : null,
  );
}

async function loadAudit(route: string, query: URLSearchParams) {
  const before = Number(query.get('before'));
  const q = `?limit=${AUDIT_PAGE}${Number.isInteger(before) && before > 0 ? `&before=${before}` : ''}`;
  return (await api('GET', `${route}${q}`, { schema: auditPageSchema })).events;
}

async function appAuditPage(ctx: PageContext, app: string): Promise<void> {
  const s = ctx.session!;
  if (!inScope(s.apps, app)) return deniedPage(ctx, `Your token's scope does not include the app "${app}".`);
  if (s.role !== 'admin' && s.role !== 'developer') return deniedPage(ctx, `An ${s.role} token may not read the audit; it needs an admin or developer token.`);
  const events = await loadAudit(`/apps/${enc(app)}/audit`, ctx.query);
  const main = layout(
    ctx,
    `${app}: audit`,
    h('h1', {}, `Audit: ${app}`),
    appNav(ctx, app, 'audit'),
    h('p', { class: 'muted' }, 'Who changed what, and when. Values are never recorded.'),
    events.length ? auditTable(events, false) : h('p', { class: 'empty' }, 'No events.'),
    pager(events, `/apps/${enc(app)}/audit`, ctx.query),
  );
  main.dataset.page = 'app-audit';
}

async function auditPage(ctx: PageContext): Promise<void> {
  if (ctx.session!.role !== 'admin') return deniedPage(ctx, 'Only an admin token may read the whole audit and verify it.');
  const events = await loadAudit('/audit', ctx.query);
  const result = h('div', { id: 'verify-result', role: 'status' });
  const verify = h('button', { type: 'button', class: 'btn', id: 'verify' }, icon('verified'), ' Verify the audit chain');
  verify.addEventListener('click', () => {
    verify.setAttribute('disabled', '');
    setChildren(result, 'Verifying…');
    void api('GET', '/audit/verify', { schema: verifySchema })
      .then(
        (v) =>
          setChildren(
            result,
            v.ok
              ? h('p', { class: 'ok' }, icon('pass'), ` The chain is intact: ${v.events.toLocaleString('en-US')} events, each sealed to the one before.`)
              : h('p', { class: 'bad' }, icon('error'), ` The chain is broken${v.firstBadEvent ? ` at event ${v.firstBadEvent}` : ''}: records were changed, removed or cut off. Check the store and its backups.`),
          ),
        (err: unknown) => setChildren(result, banner('error', (err as Error).message)),
      )
      .finally(() => verify.removeAttribute('disabled'));
  });
  const main = layout(
    ctx,
    'Audit',
    h('h1', {}, 'Audit'),
    h('section', { 'aria-labelledby': 'verify-h' }, h('h2', { id: 'verify-h' }, 'Verification'), h('p', { class: 'muted' }, 'Checks every record against its seal (an HMAC under a key derived from the master key) and the chain head.'), verify, result),
    h('section', { 'aria-labelledby': 'events-h' }, h('h2', { id: 'events-h' }, 'Events'), events.length ? auditTable(events, true) : h('p', { class: 'empty' }, 'No events.'), pager(events, '/audit', ctx.query)),
  );
  main.dataset.page = 'audit';
}

// ---- tokens -------------------------------------------------------------------------------

function parseScope(text: string): Scope {
  const t = text.trim();
  if (t === '' || t === '*') return '*';
  return t.split(/[\s,]+/).filter(Boolean);
}

async function tokensPage(ctx: PageContext): Promise<void> {
  if (ctx.session!.role !== 'admin') return deniedPage(ctx, 'Only an admin token may manage tokens.');
  const { tokens } = await api('GET', '/tokens', { schema: tokensSchema });
  const listHost = h('div', { id: 'token-list' });
  const status = h('div', { id: 'tokens-status', role: 'status', class: 'status' });
  const created = h('div', { id: 'created' });

  const dialog = h('dialog', { id: 'confirm-revoke', 'aria-labelledby': 'confirm-title' }) as HTMLDialogElement;
  let pending: TokenInfo | null = null;
  const confirmText = h('p', { id: 'confirm-text' });
  const yes = h('button', { type: 'button', class: 'btn danger', id: 'confirm-yes' }, 'Revoke');
  const no = h('button', { type: 'button', class: 'btn secondary', id: 'confirm-no' }, 'Cancel');
  setChildren(dialog, h('h2', { id: 'confirm-title' }, 'Revoke this token?'), confirmText, h('div', { class: 'actions' }, no, yes));
  no.addEventListener('click', () => dialog.close());
  yes.addEventListener('click', () => {
    const t = pending;
    dialog.close();
    if (!t) return;
    void api('DELETE', `/tokens/${enc(t.id)}`).then(
      async () => {
        setChildren(status, `Revoked ${t.name}. Its sessions end with it.`);
        await refresh();
      },
      (err: unknown) => setChildren(status, banner('error', `Not revoked: ${(err as Error).message}`)),
    );
  });

  const render = (list: TokenInfo[]) => {
    const rows = list.map((t) => {
      const revoke = t.revokedAt ? null : h('button', { type: 'button', class: 'btn secondary', 'data-revoke': t.id, 'aria-label': `Revoke ${t.name}` }, icon('trash'), ' Revoke');
      revoke?.addEventListener('click', () => {
        pending = t;
        setChildren(confirmText, `"${t.name}" (${t.role}) stops working at once, everywhere, and its browser sessions end. This cannot be undone.`);
        dialog.showModal();
        no.focus();
      });
      return h(
        'tr',
        { 'data-token': t.id },
        h('td', {}, t.name),
        h('td', {}, t.role),
        h('td', {}, scopeText(t.apps)),
        h('td', {}, scopeText(t.stages)),
        h('td', {}, formatWhen(t.createdAt)),
        h('td', {}, t.revokedAt ? `revoked ${formatWhen(t.revokedAt)}` : 'active'),
        h('td', {}, revoke),
      );
    });
    setChildren(listHost, table('Tokens', ['Name', 'Role', 'Apps', 'Stages', 'Created', 'Status', ''], rows, 'tokens'));
  };
  // Never rejects: a failed reload of the list is said in the status line (the list stays as it was).
  const refresh = async () => {
    try {
      render((await api('GET', '/tokens', { schema: tokensSchema })).tokens);
    } catch (err) {
      setChildren(status, banner('error', `Could not reload the list: ${(err as Error).message}`));
    }
  };
  render(tokens);

  const name = h('input', { id: 'new-name', class: 'field', required: true, maxlength: '100', autocomplete: 'off' });
  const role = h('select', { id: 'new-role', class: 'field' }, ...ROLES.map((r) => h('option', { value: r, selected: r === 'operator' }, r)));
  const apps = h('input', { id: 'new-apps', class: 'field', placeholder: '* (all) or orders, billing', autocomplete: 'off', 'aria-describedby': 'scope-help' });
  const stages = h('input', { id: 'new-stages', class: 'field', placeholder: '* (all) or production', autocomplete: 'off', 'aria-describedby': 'scope-help' });
  const formError = h('div', { id: 'create-error' });
  const form = h(
    'form',
    { id: 'create-token', class: 'card grid-form', novalidate: true },
    h('label', { for: 'new-name' }, 'Name'),
    name,
    h('label', { for: 'new-role' }, 'Role'),
    role,
    h('label', { for: 'new-apps' }, 'Apps'),
    apps,
    h('label', { for: 'new-stages' }, 'Stages'),
    stages,
    h('p', { id: 'scope-help', class: 'muted span' }, 'Comma-separated keys, or * (or empty) for all. An admin token has no scope; a runtime token reads exactly one app in one stage.'),
    h('div', { class: 'span' }, formError),
    h('div', { class: 'actions span' }, h('button', { type: 'submit', class: 'btn', id: 'create' }, icon('add'), ' Create token')),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    setChildren(formError);
    const r = role.value as Role;
    const body = { name: name.value.trim(), role: r, ...(r === 'admin' ? {} : { apps: parseScope(apps.value), stages: parseScope(stages.value) }) };
    void api('POST', '/tokens', { body, schema: createTokenResponseSchema }).then(
      async (res) => {
        form.reset();
        showCreated(created, body.name, res.token);
        await refresh();
      },
      (err: unknown) => setChildren(formError, banner('error', `Not created: ${(err as PortalError).message}`)),
    );
  });

  const main = layout(
    ctx,
    'Tokens',
    h('h1', {}, 'Tokens'),
    h('section', { 'aria-labelledby': 'create-h' }, h('h2', { id: 'create-h' }, 'Create a token'), form, created),
    h('section', { 'aria-labelledby': 'list-h' }, h('h2', { id: 'list-h' }, 'All tokens'), status, listHost),
    dialog,
  );
  main.dataset.page = 'tokens';
}

/** The new token, shown this once; "Done" removes it from the page. */
function showCreated(target: HTMLElement, name: string, token: string): void {
  const value = h('input', { id: 'new-token', class: 'field mono', readonly: true, value: token, 'aria-label': `The token for ${name}` });
  const copy = h('button', { type: 'button', class: 'btn', id: 'copy-token' }, icon('copy'), ' Copy');
  const done = h('button', { type: 'button', class: 'btn secondary', id: 'done-token' }, 'Done');
  const note = h('span', { role: 'status', class: 'muted', id: 'copy-status' });
  copy.addEventListener('click', () => {
    void navigator.clipboard.writeText(value.value).then(
      () => setChildren(note, 'Copied.'),
      () => {
        value.select();
        setChildren(note, 'Could not copy: select the text and copy it yourself.');
      },
    );
  });
  done.addEventListener('click', () => {
    value.value = '';
    setChildren(target);
  });
  setChildren(
    target,
    h(
      'div',
      { class: 'banner info created', role: 'region', 'aria-label': 'New token' },
      h('p', {}, icon('key'), ` The token for ${name}. Copy it now: it is shown only this once and cannot be read again.`),
      h('div', { class: 'copy-row' }, value, copy, done),
      note,
    ),
  );
  value.focus();
  value.select();
}

// ---- routing ------------------------------------------------------------------------------

export async function route(ctx: PageContext): Promise<void> {
  const parts = ctx.path.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  if (parts[0] === 'signin' && parts.length === 1) return signInPage(ctx);
  if (!ctx.session) {
    location.replace(`/signin?next=${enc(ctx.path + (ctx.query.size ? `?${ctx.query}` : ''))}`);
    return;
  }
  try {
    if (parts.length === 0) return location.replace('/apps');
    if (parts[0] === 'apps') {
      if (parts.length === 1) return await appsPage(ctx);
      const app = parts[1]!;
      if (parts.length === 2) return await appPage(ctx, app, undefined, false);
      if (parts.length === 3 && parts[2] === 'coverage') return await appPage(ctx, app, undefined, true);
      if (parts.length === 3 && parts[2] === 'audit') return await appAuditPage(ctx, app);
      if (parts.length === 4 && parts[2] === 'stages') return await appPage(ctx, app, parts[3]!, false);
    }
    if (parts.length === 1 && parts[0] === 'tokens') return await tokensPage(ctx);
    if (parts.length === 1 && parts[0] === 'audit') return await auditPage(ctx);
    notFoundPage(ctx);
  } catch (err) {
    if (isStatus(err, 401)) {
      location.replace(`/signin?next=${enc(ctx.path)}`);
      return;
    }
    errorPage(ctx, err);
  }
}
