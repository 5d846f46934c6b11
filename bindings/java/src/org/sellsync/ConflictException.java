package org.sellsync;

/** {@code SELLSYNC_ERR_CONFLICT}: the call contradicts what was recorded before. */
public class ConflictException extends SellSyncException {
    private static final long serialVersionUID = 1L;

    public ConflictException(String detail) {
        super(Status.CONFLICT, detail);
    }
}
