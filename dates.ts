/**
 * Reading dates strictly, as pure functions shared by the config, the outputs schema, the rotation
 * state and the commands: `Date.parse` rolls impossible dates over (`2027-02-30` is taken as March 2nd,
 * `T24:00` as the next day), so a typo would silently mean another day. Here an impossible date is no
 * date at all (undefined), and each caller refuses it with its own message.
 */

const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|([+-])(\d{2}):(\d{2})))?$/;

/** `Date.UTC` for any year: `Date.UTC` itself reads years 0 to 99 as 1900 to 1999. */
function utc(year: number, month: number, day: number, h = 0, mi = 0, s = 0, ms = 0): number {
  const date = new Date(Date.UTC(2000, 0, 1, h, mi, s, ms));
  date.setUTCFullYear(year, month - 1, day);
  return date.getTime();
}

/** Days in `month` (1-12) of `year`, in the proleptic Gregorian calendar. */
export function daysInMonth(year: number, month: number): number {
  return new Date(utc(year, month + 1, 0)).getUTCDate();
}

/**
 * Milliseconds since the Unix epoch of an ISO 8601 date (`2027-03-03`, midnight UTC) or time with `Z`
 * or an offset (`2027-03-03T00:00:00Z`, `2027-03-03T01:00+01:00`, fractions of a second allowed), or
 * undefined when it is not one or names a day, hour, minute or second that does not exist
 * (`2027-02-30`, `2027-04-31`, `T24:00`, `:60`, an offset beyond 23:59). `dateOnly: false` refuses a
 * bare date; a time without a zone is always refused (it would depend on the machine's time zone).
 */
export function parseIsoInstant(text: string, options: { dateOnly?: boolean } = {}): number | undefined {
  const m = ISO_INSTANT.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, fraction, zone, sign, oh, om] = m;
  if (h === undefined && options.dateOnly === false) return undefined;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (h === undefined) return utc(year, month, day);
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (zone !== "Z") {
    if (Number(oh) > 23 || Number(om) > 59) return undefined;
    offsetMinutes = (sign === "-" ? -1 : 1) * (Number(oh) * 60 + Number(om));
  }
  const ms = fraction === undefined ? 0 : Math.floor(Number(`0${fraction}`) * 1000);
  return utc(year, month, day, hour, minute, second, ms) - offsetMinutes * 60_000;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const DAY_NAME = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)";
const LONG_DAY_NAME = "(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)";
const MONTH = `(${MONTHS.join("|")})`;
const TIME = String.raw`(\d{2}):(\d{2}):(\d{2})`;
/** `Sun, 06 Nov 1994 08:49:37 GMT` (IMF-fixdate, the one senders must use). */
const IMF_FIXDATE = new RegExp(String.raw`^${DAY_NAME}, (\d{2}) ${MONTH} (\d{4}) ${TIME} GMT$`);
/** `Sunday, 06-Nov-94 08:49:37 GMT` (obsolete RFC 850 form). */
const RFC850 = new RegExp(String.raw`^${LONG_DAY_NAME}, (\d{2})-${MONTH}-(\d{2}) ${TIME} GMT$`);
/** `Sun Nov  6 08:49:37 1994` (obsolete asctime form). */
const ASCTIME = new RegExp(String.raw`^${DAY_NAME} ${MONTH} ( \d|\d{2}) ${TIME} (\d{4})$`);

/**
 * Milliseconds since the Unix epoch of an HTTP date (RFC 9110 §5.6.7: IMF-fixdate, and the obsolete
 * RFC 850 and asctime forms recipients must accept), or undefined when it is none of them or names a
 * day or time that does not exist (`Sat, 30 Feb 2027 ...`). A two-digit RFC 850 year more than 50
 * years ahead is taken as the past century, as RFC 9110 asks.
 */
export function parseHttpDate(text: string, nowMs: number): number | undefined {
  const parts = (() => {
    let m = IMF_FIXDATE.exec(text);
    if (m) return { day: m[1], month: m[2], year: Number(m[3]), time: m.slice(4, 7) };
    m = RFC850.exec(text);
    if (m) {
      const thisYear = new Date(nowMs).getUTCFullYear();
      let year = Math.floor(thisYear / 100) * 100 + Number(m[3]);
      if (year > thisYear + 50) year -= 100;
      return { day: m[1], month: m[2], year, time: m.slice(4, 7) };
    }
    m = ASCTIME.exec(text);
    if (m) return { day: m[2].trim(), month: m[1], year: Number(m[6]), time: m.slice(3, 6) };
    return undefined;
  })();
  if (!parts) return undefined;
  const pad = (n: number | string, width = 2) => String(n).padStart(width, "0");
  const [h, mi, s] = parts.time;
  return parseIsoInstant(
    `${pad(parts.year, 4)}-${pad(MONTHS.indexOf(parts.month) + 1)}-${pad(parts.day)}T${h}:${mi}:${s}Z`,
  );
}
