// The theme VS Code gives a webview: `--vscode-*` colour variables on <html> and a theme class
// on <body>. The stand-in page has none of them, so the accessibility checks and screenshots set
// the ones the editor (and vscode-elements) use, with the values of VS Code's own themes (Dark
// Modern, Light+ and High Contrast Dark), through the CSSOM (the page's CSP allows no inline style).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { ROOT, type Session } from './standin';

export type ThemeKind = 'dark' | 'light' | 'high-contrast';

const FONT = {
  'font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif',
  'font-size': '13px',
  'font-weight': 'normal',
  'editor-font-family': '"Droid Sans Mono", "monospace", monospace',
};

export const THEMES: Record<ThemeKind, { bodyClass: string; vars: Record<string, string> }> = {
  dark: {
    bodyClass: 'vscode-dark',
    vars: {
      ...FONT,
      foreground: '#cccccc',
      'editor-background': '#1f1f1f',
      'editor-foreground': '#cccccc',
      descriptionForeground: '#9d9d9d',
      errorForeground: '#f85149',
      focusBorder: '#0078d4',
      'input-background': '#313131',
      'input-foreground': '#cccccc',
      'input-border': '#3c3c3c',
      'input-placeholderForeground': '#989898',
      'inputValidation-errorBackground': '#5a1d1d',
      'inputValidation-errorBorder': '#be1100',
      'button-background': '#0078d4',
      'button-foreground': '#ffffff',
      'button-hoverBackground': '#026ec1',
      'button-border': '#ffffff12',
      'button-secondaryBackground': '#313131',
      'button-secondaryForeground': '#cccccc',
      'button-secondaryHoverBackground': '#3c3c3c',
      'badge-background': '#616161',
      'badge-foreground': '#f8f8f8',
      'dropdown-background': '#313131',
      'dropdown-foreground': '#cccccc',
      'dropdown-border': '#3c3c3c',
      'settings-dropdownBackground': '#313131',
      'settings-dropdownForeground': '#cccccc',
      'settings-dropdownBorder': '#3c3c3c',
      'settings-headerBorder': '#2b2b2b',
      'editorWarning-foreground': '#cca700',
      'editorWidget-border': '#313131',
      'panel-border': '#2b2b2b',
      'list-hoverBackground': '#2a2d2e',
      'list-activeSelectionBackground': '#04395e',
      'list-activeSelectionForeground': '#ffffff',
      'gitDecoration-modifiedResourceForeground': '#e2c08d',
      'editorGutter-modifiedBackground': '#1b81a8',
      'testing-iconPassed': '#73c991',
      'tab-activeForeground': '#ffffff',
      'panelTitle-activeForeground': '#cccccc',
      'panelTitle-inactiveForeground': '#9d9d9d',
      'panelTitle-activeBorder': '#0078d4',
    },
  },
  light: {
    bodyClass: 'vscode-light',
    vars: {
      ...FONT,
      foreground: '#616161',
      'editor-background': '#ffffff',
      'editor-foreground': '#000000',
      descriptionForeground: '#717171',
      errorForeground: '#a1260d',
      focusBorder: '#0090f1',
      'input-background': '#ffffff',
      'input-foreground': '#616161',
      'input-border': '#cecece',
      'input-placeholderForeground': '#767676',
      'inputValidation-errorBackground': '#f2dede',
      'inputValidation-errorBorder': '#be1100',
      'button-background': '#007acc',
      'button-foreground': '#ffffff',
      'button-hoverBackground': '#0062a3',
      'button-secondaryBackground': '#5f6a79',
      'button-secondaryForeground': '#ffffff',
      'button-secondaryHoverBackground': '#4c5561',
      'badge-background': '#c4c4c4',
      'badge-foreground': '#333333',
      'dropdown-background': '#ffffff',
      'dropdown-foreground': '#616161',
      'dropdown-border': '#cecece',
      'settings-dropdownBackground': '#ffffff',
      'settings-dropdownForeground': '#616161',
      'settings-dropdownBorder': '#cecece',
      'settings-headerBorder': '#e5e5e5',
      'editorWarning-foreground': '#bf8803',
      'editorWidget-border': '#c8c8c8',
      'panel-border': '#e5e5e5',
      'list-hoverBackground': '#e8e8e8',
      'list-activeSelectionBackground': '#0060c0',
      'list-activeSelectionForeground': '#ffffff',
      'gitDecoration-modifiedResourceForeground': '#895503',
      'editorGutter-modifiedBackground': '#2090d3',
      'testing-iconPassed': '#388a34',
      'panelTitle-activeForeground': '#424242',
      'panelTitle-inactiveForeground': '#616161',
      'panelTitle-activeBorder': '#424242',
    },
  },
  'high-contrast': {
    bodyClass: 'vscode-high-contrast',
    vars: {
      ...FONT,
      foreground: '#ffffff',
      'editor-background': '#000000',
      'editor-foreground': '#ffffff',
      descriptionForeground: '#ffffffb3',
      errorForeground: '#f48771',
      focusBorder: '#f38518',
      contrastBorder: '#6fc3df',
      contrastActiveBorder: '#f38518',
      'input-background': '#000000',
      'input-foreground': '#ffffff',
      'input-border': '#6fc3df',
      'input-placeholderForeground': '#ffffffb3',
      'inputValidation-errorBackground': '#000000',
      'inputValidation-errorBorder': '#f38518',
      'button-background': '#000000',
      'button-foreground': '#ffffff',
      'button-border': '#6fc3df',
      'button-secondaryBackground': '#000000',
      'button-secondaryForeground': '#ffffff',
      'badge-background': '#000000',
      'badge-foreground': '#ffffff',
      'dropdown-background': '#000000',
      'dropdown-foreground': '#ffffff',
      'dropdown-border': '#6fc3df',
      'settings-dropdownBackground': '#000000',
      'settings-dropdownForeground': '#ffffff',
      'settings-dropdownBorder': '#6fc3df',
      'settings-headerBorder': '#6fc3df',
      'editorWarning-foreground': '#ffcc00',
      'editorWidget-border': '#6fc3df',
      'panel-border': '#6fc3df',
      'list-hoverBackground': '#000000',
      'gitDecoration-modifiedResourceForeground': '#e2c08d',
      'editorGutter-modifiedBackground': '#1b81a8',
      'testing-iconPassed': '#73c991',
      'panelTitle-activeForeground': '#ffffff',
      'panelTitle-inactiveForeground': '#ffffff',
      'panelTitle-activeBorder': '#6fc3df',
    },
  },
};

export async function applyTheme(page: Page, kind: ThemeKind): Promise<void> {
  const t = THEMES[kind];
  await page.evaluate(
    ({ vars, bodyClass }) => {
      const style = document.documentElement.style;
      for (const [k, v] of Object.entries(vars)) style.setProperty(`--vscode-${k}`, v);
      document.body.classList.remove('vscode-dark', 'vscode-light', 'vscode-high-contrast');
      document.body.classList.add(bodyClass);
    },
    { vars: t.vars, bodyClass: t.bodyClass },
  );
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

const AXE_SOURCE = path.join(ROOT, 'node_modules/axe-core/axe.min.js');

/**
 * Runs axe-core in the page and returns its serious and critical violations. The script goes in
 * through the DevTools protocol (page.evaluate), not a <script> tag, which the page's CSP refuses.
 * axe itself applies inline styles while it measures, which the CSP blocks and reports: those
 * reports (style-src only, made during the run) are axe's, not the page's, and are dropped.
 */
export async function seriousAxeViolations(s: Session): Promise<AxeViolation[]> {
  const page = s.page;
  const before = s.problems.length;
  const cspBefore = (await page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations.length)) as number;
  const loaded = await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe === 'object');
  if (!loaded) await page.evaluate(fs.readFileSync(AXE_SOURCE, 'utf8') + '\n;0');
  const violations = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ': ' + (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 200)) })))`)) as AxeViolation[];
  const added = s.problems.splice(before);
  const notAxe = added.filter((p) => !/Applying inline style violates the following Content Security Policy directive 'style-src/.test(p));
  s.problems.push(...notAxe);
  await page.evaluate((n) => {
    const list = (window as unknown as { __cspViolations: string[] }).__cspViolations;
    const extra = list.splice(n);
    list.push(...extra.filter((v) => !v.startsWith('style-src')));
  }, cspBefore);
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
