package dev.sluice.proxy.pg;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;

/**
 * The client → backend direction of a COPY FROM STDIN in one {@link ClientSession}. While the backend runs one (it
 * sent CopyInResponse), the client's CopyData/CopyDone/CopyFail do not form batches: they stream straight to that
 * backend, and reading the client pauses while the backend's socket is behind. Kept apart from the session so that
 * its batch flow does not carry the streaming's state; the session decides whether a frame is for the COPY (it
 * knows the active backend) and owns the client's auto-read, which it updates when this says the pause changed.
 * One per session, used on its event loop only.
 */
final class CopyInStream {
    private boolean copying;  // the active backend runs a COPY FROM STDIN: CopyData goes straight to it
    private boolean paused;   // reading the client paused until the backend's socket drains

    /** The active backend sent CopyInResponse: the client's CopyData is for it from now on. */
    void started() {
        copying = true;
    }

    boolean copying() {
        return copying;
    }

    /** Whether reading the client is paused for the backend's socket to drain. */
    boolean paused() {
        return paused;
    }

    /** The cycle ended (ReadyForQuery, or its backend was lost): no more streaming, no pause. */
    void ended() {
        copying = false;
        paused = false;
    }

    /**
     * Streams the client's CopyData/CopyDone/CopyFail {@code frame} (type {@code t}) to {@code be}, taking
     * ownership of it. Returns true when reading the client has just paused, so the session updates its auto-read.
     */
    boolean forward(Channel be, ByteBuf frame, byte t) {
        be.write(frame); // COPY FROM STDIN data streams straight to the backend running it
        if (t != 'd') {
            copying = false;
            be.flush();
        } else if (!be.isWritable()) {
            // the server consumes the data slower than the client sends it (a slow trigger, a lock, a busy
            // disk): stop reading the client until the backend's socket drains (backendWritable), so the proxy
            // holds about one write-buffer high-water mark per session instead of the whole stream. Paused
            // before the flush: on the same event loop the flush may drain the socket at once, and the
            // writability event it fires (backendWritable) must find the pause to lift
            paused = true;
            be.flush();
            return true;
        }
        return false;
    }

    /** The client's read burst ended: what it streamed goes out to the backend {@code active} (may be null). */
    void readComplete(BackendConnection active) {
        if (copying && active != null) {
            active.channel().flush();
        }
    }

    /**
     * Backend {@code be}'s socket took its pending bytes; {@code active} runs the cycle. Returns true when the pause
     * lifted, so the session reads the client again.
     */
    boolean backendWritable(BackendConnection be, BackendConnection active) {
        if (paused && (be != active || be.channel().isWritable())) {
            paused = false;
            return true;
        }
        return false;
    }
}
