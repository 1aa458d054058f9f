/**
 * An instant as `timestamptz` input text, for values that travel to PostgreSQL inside JSON
 * (`jsonb_to_recordset`) rather than as parameters node-postgres formats. ISO text, except at the ends
 * of JavaScript's range: PostgreSQL has no year 0 and refuses `0000-…` (an RFC 3339 date-time may say
 * 0000, or reach year 0 through its offset), so years before 1 are written its way, `0001-… BC`; and it
 * reads a year after 9999 without the sign and zeros `toISOString` gives it (`+012026-…`).
 */
export function timestampText(at: Date): string {
  const iso = at.toISOString();
  const year = at.getUTCFullYear();
  const rest = iso.slice(iso.indexOf('-', 1));
  if (year < 1) return `${String(1 - year).padStart(4, '0')}${rest} BC`;
  return year > 9999 ? `${year}${rest}` : iso;
}
