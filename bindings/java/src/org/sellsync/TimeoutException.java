package org.sellsync;

/** {@code SELLSYNC_ERR_TIMEOUT}: the call did not finish in time. */
public class TimeoutException extends SellSyncException {
    private static final long serialVersionUID = 1L;

    public TimeoutException(String detail) {
        super(Status.TIMEOUT, detail);
    }
}
