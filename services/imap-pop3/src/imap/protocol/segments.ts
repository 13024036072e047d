/**
 * One received command as the receiver assembled it: lines (without CRLF and without the literal
 * announcement that ended them) and the literals that followed them. The command's text is
 * `text[0] literal[0] text[1] literal[1] ... text[last]`.
 */
export interface CommandSegment {
  text: Buffer;
  /** The literal announced at the end of this line, when there was one. */
  literal?: Buffer;
  /** `~{n}`: a literal8 (RFC 3516), which may hold NUL octets. */
  binary?: boolean;
}
