import { styleText } from 'node:util';

type Style = Parameters<typeof styleText>[0];

/**
 * Colour on a terminal, plain text otherwise: `styleText` checks that stdout is a TTY and honours NO_COLOR,
 * FORCE_COLOR and NODE_DISABLE_COLORS.
 */
export function paint(style: Style, text: string): string {
  return styleText(style, text);
}

export const OUTCOME_STYLE: Record<string, Style> = {
  HIT: 'green',
  MISS: 'yellow',
  INVALIDATE: 'magenta',
  LOOP: 'red',
  'PREFIX-BREAK': 'red',
  BYPASS: 'gray',
  ERROR: 'red',
};
