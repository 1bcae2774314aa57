/**
 * @module limits: every size limit of the protocol, in one place.
 */

/** The longest nick or channel name, in characters (code points). */
export const MAX_NAME_LENGTH = 32;
/** The longest chat message, in characters (UTF-16 code units, as JavaScript counts a string's length). */
export const MAX_MESSAGE_LENGTH = 2048;
/** The longest string request id. */
export const MAX_REQUEST_ID_LENGTH = 64;
