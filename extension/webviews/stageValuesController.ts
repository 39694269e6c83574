// The Stage Values panel's host side lives in common/stageValuesHost.ts, shared with the portal's
// web page (one editor, two hosts); this module keeps the extension's import path.
export * from '../../common/stageValuesHost';
