// The IMAP protocol layer: pure functions and one stateful reader, no sockets, no SQL.
//
//   reader.ts       bytes in → commands, continuation requests, errors; raw lines for AUTHENTICATE/IDLE
//   tokens.ts       the Token types of command arguments and typed accessors (astring, number...)
//   errors.ts       ImapError: what argument parsers throw, answered as tagged BAD/NO
//   sequence.ts     sequence sets as ranges, resolved against counts or sorted UID lists
//   fetch-items.ts  FETCH attributes, sections and CHANGEDSINCE → FetchRequest (with needs)
//   flags.ts        flags, flag lists, STORE arguments with UNCHANGEDSINCE
//   sections.ts     BODY[section]<partial> octets from the raw message and its cached structure
//   search.ts       SEARCH keys → tree → compiled predicate over lazily loaded message data
//   encode.ts       response strings, ENVELOPE, BODY/BODYSTRUCTURE, modified UTF-7, ResponseBuilder
//   dates.ts        INTERNALDATE, SEARCH dates, the day of a Date: field
export * from './dates';
export * from './encode';
export * from './errors';
export * from './fetch-items';
export * from './flags';
export * from './reader';
export * from './search';
export * from './sections';
export * from './sequence';
export * from './tokens';
