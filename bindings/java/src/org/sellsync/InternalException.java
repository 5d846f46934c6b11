package org.sellsync;

/** {@code SELLSYNC_ERR_INTERNAL}: a bug inside the library (a caught panic); the handle stays usable. */
public class InternalException extends SellSyncException {
    private static final long serialVersionUID = 1L;

    public InternalException(String detail) {
        super(Status.INTERNAL, detail);
    }
}
