/**
 * What may reach a terminal, a hand-off sheet or a log, as pure functions shared by every command and
 * the stack config: text from files and servers is shown with its invisible and control characters
 * escaped (`\u001b`, `\u202e`), never raw, so that it cannot move the cursor, clear the screen, write
 * the clipboard (OSC 52), reorder what is displayed (bidirectional overrides) or hide characters
 * (zero-width). docs/commands.md says what users see.
 */

/**
 * Characters that are never shown raw: controls (C0, DEL, C1: Unicode category Cc), format characters
 * (Cf: the bidirectional controls U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069; the zero-width
 * U+200B-U+200D, U+2060, U+FEFF; the soft hyphen...) and the line and paragraph separators U+2028, U+2029.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

/** The same, minus the two controls a multi-line text is made of (line feed, tab). */
const UNSAFE_IN_LINES = /(?![\n\t])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

/**
 * Invisible characters that have no place in a name, an identifier or a matched string (a federated
 * subject, an issuer): format characters (bidirectional controls, zero-width characters) and line or
 * paragraph separators. Control characters are separate ({@link CONTROL}).
 */
export const INVISIBLE = /[\p{Cf}\p{Zl}\p{Zp}]/u;

/** A control character (C0, DEL or C1). */
export const CONTROL = /\p{Cc}/u;

/** `\u001b`, `\u202e`, or `\u{e0041}` beyond the Basic Multilingual Plane. */
function escapeOne(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * `text` with every control, format and separator character escaped (`\u001b`, `\u202e`...), so it
 * can be printed and shows what it holds. With `lines`, line feeds and tabs are kept: for whole
 * reports made of lines; without, a value stays on the one line it is put in. The one escaping
 * function of the tool: the runner applies it to everything printed, the hand-off sheet to every value.
 */
export function printable(text: string, options: { lines?: boolean } = {}): string {
  return text.replace(options.lines ? UNSAFE_IN_LINES : UNSAFE, escapeOne);
}

/** JSON escapes of the characters JSON.stringify leaves raw (DEL, C1, format characters, U+2028/9). */
const RAW_IN_JSON = /[\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}]/gu;

/**
 * `JSON.stringify(value, null, indent)` with the characters {@link printable} escapes written as JSON
 * escapes (`\u202e`): the same value once parsed, nothing invisible in the text.
 */
export function printableJson(value: unknown, indent?: number): string {
  // One \uXXXX per UTF-16 unit: a character beyond the Basic Multilingual Plane is a surrogate pair.
  return JSON.stringify(value, null, indent).replace(RAW_IN_JSON, (char) =>
    Array.from(
      { length: char.length },
      (_, i) => `\\u${char.charCodeAt(i).toString(16).padStart(4, "0")}`,
    ).join(""),
  );
}
