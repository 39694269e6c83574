// Coverage: every setting across every stage at once, by status only (set, default, missing
// secret, unset). It never holds a value: the host sends statuses, not settings.
import type { CoverageStatus, CoverageView } from '../common/protocol';
import { h, icon, setChildren } from './dom';

const LABELS: Record<CoverageStatus, { text: string; icon: string; title: string }> = {
  set: { text: 'Set', icon: 'pass', title: 'This stage has its own value' },
  default: { text: 'Default', icon: 'circle-outline', title: 'No value in this stage; the default applies' },
  missing: { text: 'Missing', icon: 'warning', title: 'A secret with no value in this stage' },
  unset: { text: 'Unset', icon: 'dash', title: 'No value and no default: reads as null' },
};

export type OpenRow = (stage: string, name: string) => void;

/** A cell: the status in words and an icon; a button that opens the setting in that stage (Set ready for a secret). */
function cell(status: CoverageStatus | undefined, name: string, stage: { key: string; name: string }, open: OpenRow, extra: { due?: boolean; sameAs?: string }): HTMLElement {
  if (!status) return h('td', { class: 'cov unavailable', 'data-status': 'unavailable' }, h('span', { class: 'muted' }, 'n/a'));
  const l = LABELS[status];
  // SPEC §13's warnings, as words beside the status: "due" (rotation) and "same as QA".
  const notes = [extra.due ? 'due' : null, extra.sameAs ? `same as ${extra.sameAs}` : null].filter((n): n is string => n !== null);
  const b = h(
    'button',
    { type: 'button', class: `cov-open cov ${status}`, title: `${l.title}${notes.length ? ` (${notes.join(', ')})` : ''}. Open ${name} in ${stage.name}.`, 'aria-label': `${name} in ${stage.name}: ${l.text}${notes.length ? `, ${notes.join(', ')}` : ''}. Open it.` },
    icon(l.icon),
    ` ${l.text}`,
  );
  b.addEventListener('click', () => open(stage.key, name));
  return h('td', { class: `cov ${status}`, 'data-status': status }, b, ...notes.map((n) => h('div', { class: 'msg warning', 'data-note': n.startsWith('due') ? 'due' : 'same-as' }, icon(n === 'due' ? 'clock' : 'warning'), ` ${n}`)));
}

export function renderCoverage(target: HTMLElement, view: CoverageView, open: OpenRow): void {
  const missingPerStage = new Map(view.stages.map((s) => [s.key, view.settings.filter((x) => x.status[s.key] === 'missing').length]));
  const head = h(
    'tr',
    {},
    h('th', { scope: 'col' }, 'Setting'),
    ...view.stages.map((s) => {
      const missing = missingPerStage.get(s.key) ?? 0;
      return h(
        'th',
        { scope: 'col', 'data-stage': s.key },
        s.name,
        s.error ? h('div', { class: 'msg error', title: s.error }, icon('error'), ' not readable') : null,
        !s.error && missing > 0 ? h('div', { class: 'msg warning' }, icon('warning'), ` ${missing} missing`) : null,
      );
    }),
  );
  const rows = view.settings.map((s) =>
    h(
      'tr',
      { 'data-setting': s.name },
      h(
        'th',
        { scope: 'row', class: 'name' },
        h('span', { class: 'setting-name', title: s.description || undefined }, s.name),
        s.isSecret ? h('span', { class: 'badge secret-badge' }, icon('lock'), 'Secret') : null,
        h('span', { class: 'muted type-hint' }, ` ${s.type}`),
      ),
      ...view.stages.map((st) => {
        const lower = s.sameAs?.[st.key];
        return cell(st.error ? undefined : s.status[st.key], s.name, st, open, { due: s.due?.[st.key] === true, sameAs: lower ? (view.stages.find((x) => x.key === lower)?.name ?? lower) : undefined });
      }),
    ),
  );
  const legend = h(
    'p',
    { class: 'legend muted' },
    ...(Object.keys(LABELS) as CoverageStatus[]).flatMap((k) => [h('span', { class: `cov ${k}` }, icon(LABELS[k].icon), ` ${LABELS[k].text}`), `: ${LABELS[k].title}. `]),
  );
  setChildren(
    target,
    view.settings.length === 0
      ? h('p', { class: 'empty' }, 'This app has no settings yet.')
      : h('table', { class: 'coverage', 'aria-label': `Coverage of ${view.app} (revision ${view.revision})` }, h('thead', {}, head), h('tbody', {}, ...rows)),
    legend,
  );
}
