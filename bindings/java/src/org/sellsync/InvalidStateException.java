package org.sellsync;

/** {@code SELLSYNC_ERR_INVALID_STATE}: the call is not allowed now (e.g. close from the event callback). */
public class InvalidStateException extends SellSyncException {
    private static final long serialVersionUID = 1L;

    public InvalidStateException(String detail) {
        super(Status.INVALID_STATE, detail);
    }
}
