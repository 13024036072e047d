// The SMTP test client is shared (libs/testkit); this file adds the MX tests' sample message.
export { SmtpClient, sendMail, type Reply } from "@postline/testkit";

export function message(subject = "hello", body = "Hello there.\r\n"): string {
  return `From: Sender <sender@example.org>\r\nTo: user@example.test\r\nSubject: ${subject}\r\nDate: Fri, 28 Nov 2025 09:00:00 +0000\r\nMessage-ID: <${Math.random().toString(36).slice(2)}@example.org>\r\n\r\n${body}`;
}
