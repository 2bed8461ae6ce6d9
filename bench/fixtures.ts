/** A typical tool result for backend benchmarks: a small record with a date, a list and some text (~400 bytes). */
export function toolResult(i: number) {
  return {
    id: `T-${i}`,
    status: i % 3 === 0 ? 'open' : 'closed',
    updatedAt: new Date(1_700_000_000_000 + i),
    tags: ['billing', 'priority', `team-${i % 7}`],
    body: 'The customer reports that the invoice total does not match the order lines. '.repeat(4),
  };
}
