package org.sellsync;

/** {@code SELLSYNC_ERR_THROTTLED}: Amazon kept throttling (429) after every retry. */
public class ThrottledException extends SellSyncException {
    private static final long serialVersionUID = 1L;

    public ThrottledException(String detail) {
        super(Status.THROTTLED, detail);
    }
}
