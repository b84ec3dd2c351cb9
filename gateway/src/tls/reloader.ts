import {
  describeCertificate,
  problemLine,
  readTlsFiles,
  sameMaterial,
  type TlsFiles,
  type TlsMaterial,
} from './material.ts';

export interface TlsReloaderOptions {
  files: TlsFiles;
  /** The config section, for messages (`server.tls`). */
  at: string;
  /** What is serving now (read at start-up). */
  initial: TlsMaterial;
  /**
   * Puts a new, checked material in service (`tls.Server#setSecureContext`). May throw: the old one
   * then keeps serving.
   */
  apply(material: TlsMaterial): void;
  /** Told once per distinct problem, and once per reload; never throws. */
  log(level: 'info' | 'error', message: string, fields?: Record<string, unknown>): void;
  /** Time between two looks at the files (ms). @default 1000 */
  intervalMs?: number;
  /** Reads one file. @default fs.readFileSync */
  read?: (file: string) => Buffer;
}

/** What one look at the files found. */
export type TlsCheckOutcome = 'unchanged' | 'reloaded' | 'refused';

export interface TlsReloader {
  /** One look at the files: reload when they changed and are usable, else keep serving the old ones. */
  check(): TlsCheckOutcome;
  start(): void;
  stop(): void;
}

/**
 * Certificate rotation without a restart. The files are read and compared byte for byte at a bounded
 * interval rather than watched: fs.watch misses the symlink swap a Kubernetes secret volume does and
 * fires mid-write, and comparing a few kilobytes a second costs nothing. A new set is checked (each file
 * parses, the key matches the certificate) before it is applied, so a half-written rotation (the
 * certificate replaced, the key not yet) keeps the old pair serving and is retried on the next look.
 * Connections already open keep the context they were accepted with: nothing in flight fails.
 */
export function createTlsReloader(options: TlsReloaderOptions): TlsReloader {
  const { files, at } = options;
  let serving = options.initial;
  let lastProblem: string | undefined;
  let timer: NodeJS.Timeout | undefined;

  const refuse = (line: string): TlsCheckOutcome => {
    if (line !== lastProblem)
      options.log('error', `${at}: keeping the previous certificate: ${line}`, { ...files });
    lastProblem = line;
    return 'refused';
  };

  const check = (): TlsCheckOutcome => {
    const read = readTlsFiles(files, at, options.read);
    if ('problem' in read) return refuse(problemLine(read.problem));
    const next = read.material;
    if (sameMaterial(next, serving)) {
      lastProblem = undefined;
      return 'unchanged';
    }
    try {
      options.apply(next);
    } catch (error) {
      return refuse(
        `${at}.certFile ${files.certFile}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    serving = next;
    lastProblem = undefined;
    options.log('info', `${at}: certificate reloaded`, {
      certFile: files.certFile,
      ...(next.cert && describeCertificate(next.cert)),
    });
    return 'reloaded';
  };

  return {
    check,
    start() {
      if (timer) return;
      timer = setInterval(check, Math.max(50, options.intervalMs ?? 1_000));
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
