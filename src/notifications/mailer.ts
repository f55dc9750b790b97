/** Sends one email. SMTP in production; a log-only stand-in when SMTP_URL is not set. */
export interface Mailer {
  send(message: MailMessage): Promise<MailReceipt>;
}

export interface MailMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
}

/** `sent`: handed to an SMTP server; `logged`: only written to the log (no SMTP configured). */
export interface MailReceipt {
  status: 'sent' | 'logged';
  messageId?: string;
}

export const MAILER = Symbol('Mailer');

/**
 * Sorts an SMTP failure: a 5xx reply (unknown mailbox, rejected message) will fail again, a 4xx
 * reply (mailbox busy, greylisting) or a network error may not. nodemailer puts the server's
 * reply code in `responseCode`; envelope/message errors it raises itself are permanent too.
 */
export function isPermanentMailError(error: unknown): boolean {
  const { responseCode, code } = (error ?? {}) as { responseCode?: number; code?: string };
  if (typeof responseCode === 'number') return responseCode >= 500 && responseCode < 600;
  return code === 'EENVELOPE' || code === 'EMESSAGE';
}
