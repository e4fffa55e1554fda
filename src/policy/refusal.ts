/**
 * A refusal as the rules decide it: the SMTP reply code (RFC 5321 section 4.2), the RFC 3463
 * enhanced status code and one line of printable ASCII a person can act on. The SMTP front ends
 * send it as is (src/smtp/replies.ts).
 */
export interface Refusal {
  code: number;
  enhanced: string;
  message: string;
}
