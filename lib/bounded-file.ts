/**
 * Reading a file the tool is given (stack outputs, a stack file, a certificate, a federated token, an
 * existing hand-off sheet) with a bound, the way every command must: the size limit is enforced while
 * reading (a `stat()` before a whole-file read bounds neither a FIFO, nor `/dev/zero`, nor a file that
 * grows), anything but a regular file is refused before a byte is read (opening never waits for a
 * writer), and the read gives up when the command's time budget ends. Memory stays below the limit.
 */
import { constants } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";

/** Why a file could not be read. */
export type FileReadReason = "missing" | "not-regular" | "too-large" | "unreadable" | "not-text" | "timeout";

/** A file that cannot be used as given: a usage error (exit 2) whose message names the file. */
export class FileReadError extends Error {
  override readonly name = "FileReadError";
  /** The runner reports it as a usage error. */
  readonly kind = "usage";
  constructor(
    message: string,
    readonly reason: FileReadReason,
  ) {
    super(message);
  }
}

/** How a file is read. */
export interface BoundedReadOptions {
  /** What the file is, for messages, e.g. `--outputs dev.json` or `the federated token file`. */
  what: string;
  /** Most bytes accepted; a longer file is refused after reading at most one byte more. */
  maxBytes: number;
  /** Ends the read (the command's time budget, `--max-wait-s`). */
  signal?: AbortSignal;
}

/**
 * Opening flags: read only; never wait for a FIFO's writer (O_NONBLOCK) and never take a terminal as
 * the controlling one (O_NOCTTY). Neither exists on Windows, where opening does not block anyway.
 */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/** The bytes read at a time. */
const CHUNK_BYTES = 64 * 1024;

/** `1 MiB`, `16 MiB`, `4 KiB`, `100 bytes`. */
export function sizeText(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

function kindOf(stats: import("node:fs").Stats): string {
  if (stats.isFIFO()) return "a named pipe (FIFO)";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isSocket()) return "a socket";
  if (stats.isDirectory()) return "a directory";
  return "not a regular file";
}

/** Opens `file` for reading and checks it is a regular file; the caller closes the handle. */
async function openRegular(file: string, what: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(file, OPEN_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR")
      throw new FileReadError(`cannot read ${what}: no such file (${code})`, "missing");
    throw new FileReadError(`cannot read ${what}: ${code ?? "unreadable"}`, "unreadable");
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) {
      throw new FileReadError(
        `${what} is ${kindOf(stats)}, not a regular file: save the content to a file and give its path`,
        "not-regular",
      );
    }
    return handle;
  } catch (err) {
    await handle.close().catch(() => undefined);
    if (err instanceof FileReadError) throw err;
    throw new FileReadError(
      `cannot read ${what}: ${(err as NodeJS.ErrnoException).code ?? "unreadable"}`,
      "unreadable",
    );
  }
}

async function readAll(handle: FileHandle, what: string, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    // At most one byte beyond the limit is ever read: enough to know the file is too large.
    const room = maxBytes + 1 - total;
    const buffer = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, room));
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(buffer, 0, buffer.length, null));
    } catch (err) {
      throw new FileReadError(
        `cannot read ${what}: ${(err as NodeJS.ErrnoException).code ?? "unreadable"}`,
        "unreadable",
      );
    }
    if (bytesRead === 0) return Buffer.concat(chunks, total);
    chunks.push(buffer.subarray(0, bytesRead));
    total += bytesRead;
    if (total > maxBytes)
      throw new FileReadError(`${what} is larger than ${sizeText(maxBytes)}`, "too-large");
  }
}

/**
 * The bytes of `file` (a regular file of at most `maxBytes`), read within `signal`.
 * @throws {FileReadError} naming the file and what is wrong: missing, not a regular file (FIFO,
 * device, directory, socket), larger than the limit, unreadable, or not read before the budget ended.
 */
export async function readBoundedFile(file: string, options: BoundedReadOptions): Promise<Buffer> {
  const { what, maxBytes, signal } = options;
  const timedOut = () =>
    new FileReadError(`reading ${what} did not finish within the time budget (--max-wait-s)`, "timeout");
  if (signal?.aborted) throw timedOut();
  let handle: FileHandle | undefined;
  const work = (async () => {
    handle = await openRegular(file, what);
    return readAll(handle, what, maxBytes);
  })();
  let onAbort: (() => void) | undefined;
  try {
    if (!signal) return await work;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(timedOut());
      signal.addEventListener("abort", onAbort, { once: true });
    });
    return await Promise.race([work, aborted]);
  } finally {
    if (onAbort) signal?.removeEventListener("abort", onAbort);
    // A read still pending (a hung network file system) closes when it ends; nothing waits for it.
    void work
      .then(
        () => handle?.close(),
        () => handle?.close(),
      )
      .catch(() => undefined);
  }
}

/**
 * {@link readBoundedFile} as strict UTF-8 text (a byte order mark is dropped): invalid bytes are an
 * error naming the file, never replacement characters quietly put into a value.
 */
export async function readBoundedText(file: string, options: BoundedReadOptions): Promise<string> {
  const bytes = await readBoundedFile(file, options);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new FileReadError(`${options.what} is not UTF-8 text`, "not-text");
  }
}

/**
 * Checks, without reading it, that `file` is a regular file of at most `maxBytes`: for files that a
 * library reads itself (the Azure SDK reads AZURE_FEDERATED_TOKEN_FILE and AZURE_CLIENT_CERTIFICATE_PATH
 * with a whole-file read), so that a FIFO, a device or a huge file is refused before it is handed over.
 * @throws {FileReadError} as {@link readBoundedFile}.
 */
export async function checkRegularFile(
  file: string,
  options: Omit<BoundedReadOptions, "signal">,
): Promise<void> {
  const handle = await openRegular(file, options.what);
  try {
    const { size } = await handle.stat();
    if (size > options.maxBytes)
      throw new FileReadError(`${options.what} is larger than ${sizeText(options.maxBytes)}`, "too-large");
  } finally {
    await handle.close().catch(() => undefined);
  }
}
