// Moved to common/l10n.ts so the Stage Values host shared with the portal page can use it too.
export * from '../common/l10n';
