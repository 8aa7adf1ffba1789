package dev.sluice.proxy.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class WriteCoalescerTest {

    private static ByteBuf bytes(int n, int fill) {
        ByteBuf b = Unpooled.buffer(n);
        for (int i = 0; i < n; i++) {
            b.writeByte(fill);
        }
        return b;
    }

    /** Everything written to the channel, one entry per pipeline write. */
    private static List<ByteBuf> written(EmbeddedChannel ch) {
        ch.flush();
        List<ByteBuf> out = new ArrayList<>();
        for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
            out.add(b);
        }
        return out;
    }

    @Test
    void smallMessagesGoOutAsOneWriteInOrder() {
        EmbeddedChannel ch = new EmbeddedChannel();
        WriteCoalescer w = new WriteCoalescer(ch);
        ByteBuf a = bytes(10, 'a');
        ByteBuf b = bytes(20, 'b');
        w.add(a);
        w.add(b);
        assertEquals(0, a.refCnt(), "copied and released");
        assertNull(ch.readOutbound(), "nothing written before write()");
        w.write();
        List<ByteBuf> out = written(ch);
        assertEquals(1, out.size());
        assertEquals("a".repeat(10) + "b".repeat(20), out.get(0).toString(java.nio.charset.StandardCharsets.US_ASCII));
        out.forEach(ByteBuf::release);
    }

    @Test
    void aMessageOverHalfTheLimitStillFits() {
        // initial capacity is twice the first message, capped at the limit (a 5 kB Parse once failed here)
        EmbeddedChannel ch = new EmbeddedChannel();
        WriteCoalescer w = new WriteCoalescer(ch);
        w.add(bytes(5000, 'p'));
        w.add(bytes(5000, 'q')); // does not fit after the first: the first goes out on its own
        w.write();
        List<ByteBuf> out = written(ch);
        assertEquals(List.of(5000, 5000), out.stream().map(ByteBuf::readableBytes).toList());
        assertEquals('p', out.get(0).getByte(0));
        assertEquals('q', out.get(1).getByte(0));
        out.forEach(ByteBuf::release);
    }

    @Test
    void bigMessagesGoAsTheyAreAfterWhatWasGathered() {
        EmbeddedChannel ch = new EmbeddedChannel();
        WriteCoalescer w = new WriteCoalescer(ch);
        w.add(bytes(3, 'x'));
        ByteBuf big = bytes(WriteCoalescer.MAX_BYTES, 'y');
        w.add(big);
        w.add(bytes(4, 'z'));
        w.write();
        List<ByteBuf> out = written(ch);
        assertEquals(List.of(3, WriteCoalescer.MAX_BYTES, 4), out.stream().map(ByteBuf::readableBytes).toList());
        assertEquals(big, out.get(1), "not copied");
        out.forEach(ByteBuf::release);
    }

    @Test
    void releaseDropsWhatWasGathered() {
        EmbeddedChannel ch = new EmbeddedChannel();
        WriteCoalescer w = new WriteCoalescer(ch);
        w.add(bytes(10, 'a'));
        w.release();
        w.write();
        assertEquals(List.of(), written(ch));
    }
}
