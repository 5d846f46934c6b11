package org.sellsync;

/**
 * libsellsync could not be used: not found, not loadable, or of another major version than
 * this binding's.
 */
public class LibraryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public LibraryException(String message) {
        super(message);
    }
}
