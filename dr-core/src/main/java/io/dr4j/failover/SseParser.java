package io.dr4j.failover;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** An incremental Server-Sent Events parser (or a line splitter for plain chunked bodies). */
final class SseParser {
    private final boolean sse;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final StringBuilder data = new StringBuilder();
    private String event = "message";
    private String id = "";
    private boolean hasData;

    SseParser(boolean sse) {
        this.sse = sse;
    }

    List<ServerSentEvent> feed(byte[] bytes, int n) {
        List<ServerSentEvent> out = new ArrayList<>(2);
        for (int i = 0; i < n; i++) {
            byte b = bytes[i];
            if (b == '\n') {
                String text = line.toString(StandardCharsets.UTF_8);
                line.reset();
                if (text.endsWith("\r")) {
                    text = text.substring(0, text.length() - 1);
                }
                onLine(text, out);
            } else {
                line.write(b);
            }
        }
        return out;
    }

    List<ServerSentEvent> finish() {
        List<ServerSentEvent> out = new ArrayList<>(1);
        if (line.size() > 0) {
            onLine(line.toString(StandardCharsets.UTF_8), out);
            line.reset();
        }
        if (sse) {
            onLine("", out);
        }
        return out;
    }

    private void onLine(String text, List<ServerSentEvent> out) {
        if (!sse) {
            if (!text.isEmpty()) {
                out.add(new ServerSentEvent("message", text, ""));
            }
            return;
        }
        if (text.isEmpty()) {
            if (hasData) {
                out.add(new ServerSentEvent(event, data.toString(), id));
            }
            data.setLength(0);
            hasData = false;
            event = "message";
            return;
        }
        if (text.startsWith(":")) {
            return;
        }
        int colon = text.indexOf(':');
        String field = colon < 0 ? text : text.substring(0, colon);
        String value = colon < 0 ? "" : text.substring(colon + 1);
        if (value.startsWith(" ")) {
            value = value.substring(1);
        }
        switch (field) {
            case "data":
                if (hasData) {
                    data.append('\n');
                }
                data.append(value);
                hasData = true;
                break;
            case "event":
                event = value;
                break;
            case "id":
                id = value;
                break;
            default:
                break;
        }
    }
}
