package org.sellsync;

/**
 * A sellsync call failed. {@link #code()} is the C status ({@code SELLSYNC_ERR_*}),
 * {@link #detail()} the library's message for it ({@code sellsync_last_error()}, read right
 * after the failing call on the same thread; it never contains a secret). Each status has its
 * own subclass; a status this binding does not know comes as this class itself.
 */
public class SellSyncException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int code;
    private final String detail;

    public SellSyncException(int code, String detail) {
        super(Status.name(code) + ": " + (detail == null || detail.isEmpty() ? Status.text(code) : detail));
        this.code = code;
        this.detail = detail == null ? "" : detail;
    }

    /** The status code ({@code SELLSYNC_ERR_*}, never 0). */
    public int code() {
        return code;
    }

    /** The library's message for the failure ("" if it gave none). */
    public String detail() {
        return detail;
    }

    /** The exception for a failed status: the subclass of that status. */
    static SellSyncException of(int code, String detail) {
        switch (code) {
            case Status.INVALID_ARGUMENT: return new InvalidArgumentException(detail);
            case Status.CONFIG: return new ConfigException(detail);
            case Status.AUTH: return new AuthException(detail);
            case Status.THROTTLED: return new ThrottledException(detail);
            case Status.NETWORK: return new NetworkException(detail);
            case Status.AMAZON: return new AmazonException(detail);
            case Status.STORE: return new StoreException(detail);
            case Status.NOT_FOUND: return new NotFoundException(detail);
            case Status.CONFLICT: return new ConflictException(detail);
            case Status.TIMEOUT: return new TimeoutException(detail);
            case Status.CLOSED: return new ClosedException(detail);
            case Status.INVALID_STATE: return new InvalidStateException(detail);
            case Status.FORKED: return new ForkedException(detail);
            case Status.INTERNAL: return new InternalException(detail);
            default: return new SellSyncException(code, detail);
        }
    }
}
