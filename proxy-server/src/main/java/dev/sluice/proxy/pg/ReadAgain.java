package dev.sluice.proxy.pg;

/**
 * A session's safety copy of the cycle on its backend, kept when running it twice cannot do harm — an autocommit read
 * on a replica, or a batch that runs no statement (Parse/Describe/Sync: a prepare) — so that if the backend dies before
 * the client got any of the answer, the cycle runs again wherever routing sends it now (ClientSession.backendLost).
 * Released as soon as the client gets a first reply message, or when the cycle ends. One per session, on its loop.
 */
final class ReadAgain {
    private Batch kept;
    private String whyNot; // why the current cycle is not kept (debug log only; built only with debug on)
    private byte answeredBy; // the first reply message the client got, which ended the copy (0: none)

    /** A cycle starts with {@code b} on {@code node}; keeps a copy of it when it is safe to run again. */
    void cycleStarts(Batch b, String node, char txStatus, boolean inTransaction, String primary, boolean onLane, boolean debug) {
        answeredBy = 0;
        // a read lane's cycle is always kept, also when run again already: another read sent with it may fail, and
        // then the server skips it (ClientSession#laneSkipped)
        if (onLane || b.endsCycle && !b.retried && txStatus == 'I' && !inTransaction
                && (b.statements.isEmpty() || b.onlyReads() && !node.equals(primary))) {
            kept = b.copyForRetry();
            whyNot = null;
        } else if (debug) {
            whyNot = "ends cycle " + b.endsCycle + ", retried " + b.retried + ", tx " + txStatus + "/" + inTransaction
                    + ", only reads " + b.onlyReads() + ", on " + node;
        }
    }

    /** The client got reply message {@code t}: part of the answer is out, so the cycle can no longer run again. */
    void answered(byte t) {
        if (kept != null) { // per relayed message: nothing else here
            kept.release();
            kept = null;
            answeredBy = t;
        }
    }

    /** The copy to run again, taken (null when the cycle was not kept). */
    Batch take() {
        Batch b = kept;
        kept = null;
        return b;
    }

    /** The cycle ended (or the session did): the copy is not needed. */
    void drop() {
        if (kept != null) {
            kept.release();
            kept = null;
        }
    }

    /** Why the cycle on the backend was not run again (debug log). */
    String whyNot() {
        return answeredBy != 0 ? "the client got part of the answer ('" + (char) answeredBy + "')" : whyNot;
    }
}
