package io.dr4j.aws;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;
import software.amazon.awssdk.core.ResponseInputStream;

/**
 * The body of one GET response, limited to {@code length} bytes: it fails with
 * {@link EOFException} if the connection ends early (never a silently short object), and aborts
 * the HTTP connection when closed before the end instead of draining a possibly huge remainder.
 * Not thread-safe.
 */
final class ResponseBodyStream extends InputStream {

    private final ResponseInputStream<?> response;
    private final String what;
    private long remaining;
    private boolean closed;

    ResponseBodyStream(ResponseInputStream<?> response, long length, String what) {
        this.response = response;
        this.remaining = length;
        this.what = what;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (closed) {
            throw new IOException(what + ": stream closed");
        }
        if (len == 0) {
            return 0;
        }
        if (remaining == 0) {
            return -1;
        }
        int n = response.read(b, off, (int) Math.min(len, remaining));
        if (n < 0) {
            throw new EOFException(what + ": connection ended " + remaining + " bytes before the end of the object");
        }
        remaining -= n;
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        return super.skip(Math.min(n, remaining));
    }

    @Override
    public int available() throws IOException {
        return (int) Math.min(response.available(), remaining);
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        if (remaining > 0) {
            response.abort();
        }
        response.close();
    }
}
