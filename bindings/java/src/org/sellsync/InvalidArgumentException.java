package org.sellsync;

/** {@code SELLSYNC_ERR_INVALID_ARGUMENT}: an argument was null, not valid text, malformed JSON, or out of range. */
public class InvalidArgumentException extends SellSyncException {
    private static final long serialVersionUID = 1L;

    public InvalidArgumentException(String detail) {
        super(Status.INVALID_ARGUMENT, detail);
    }
}
