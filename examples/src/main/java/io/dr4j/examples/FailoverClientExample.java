package io.dr4j.examples;

import io.dr4j.failover.ConcurrencyLimit;
import io.dr4j.failover.Endpoint;
import io.dr4j.failover.FailoverHttpClient;
import io.dr4j.failover.FailoverRouter;
import io.dr4j.failover.FailoverRouterBuilder;
import io.dr4j.failover.InferenceResponse;
import io.dr4j.failover.ServerSentEvent;
import io.dr4j.failover.StreamResumer;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * A failover client in front of real OpenAI-compatible inference endpoints (vLLM, TGI, a hosted
 * API) in several regions. Configured by environment variables:
 * <ul>
 *   <li>{@code DR4J_ENDPOINTS}: {@code id=region=priority=baseUri} entries separated by commas, e.g.
 *       {@code a=us-east=0=http://10.0.0.5:8000/,b=eu-west=1=http://10.1.0.7:8000/}
 *       (priority 0 is preferred; higher priorities take traffic when it is unhealthy);</li>
 *   <li>{@code DR4J_API_KEY}: sent as {@code Authorization: Bearer ...} if set;</li>
 *   <li>{@code DR4J_MODEL}: the model name (default {@code default}).</li>
 * </ul>
 * Sends the prompt given as arguments to {@code v1/chat/completions} a few times and prints which
 * endpoint answered each call; stop an endpoint while it runs to watch calls move. A 429 (or 503
 * with {@code Retry-After}) leaves that endpoint alone for the advised time instead of ejecting it,
 * and an adaptive (Vegas) concurrency limit per endpoint keeps the client from overrunning it.
 * With {@code DR4J_STREAM=1} the last call streams, and a stream that breaks mid-answer is resumed
 * on another endpoint with the partial answer as the assistant prefix (for servers that accept
 * {@code continue_final_message}, such as vLLM).
 *
 * <p>Run: {@code DR4J_ENDPOINTS=... java -cp examples/target/dr4j.jar io.dr4j.examples.FailoverClientExample "Say hi"}
 */
public final class FailoverClientExample {

    private FailoverClientExample() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> env = System.getenv();
        String spec = env.get("DR4J_ENDPOINTS");
        if (spec == null || spec.isBlank()) {
            System.err.println("set DR4J_ENDPOINTS=id=region=priority=baseUri,... (see the class javadoc)");
            System.exit(2);
        }
        FailoverRouterBuilder<URI> router = FailoverRouter.<URI>builder().name("example")
                .concurrencyLimit(ConcurrencyLimit.vegas(8, 256))
                // 429 without advice: leave the endpoint alone 1 s; never more than 30 s whatever it says.
                .saturation(Duration.ofSeconds(1), Duration.ofSeconds(30))
                // Every endpoint busy: wait up to 5 s for the earliest, then AllEndpointsSaturatedException.
                .whenAllSaturated(Duration.ofSeconds(5));
        for (String entry : spec.split(",")) {
            String[] p = entry.trim().split("=", 4);
            if (p.length != 4) {
                throw new IllegalArgumentException("endpoint entry '" + entry + "' is not id=region=priority=baseUri");
            }
            router.endpoint(Endpoint.of(p[0], p[1], Integer.parseInt(p[2]), URI.create(p[3])));
        }
        String prompt = args.length == 0 ? "Say hello in one word." : String.join(" ", args);
        String body = "{\"model\":\"" + json(env.getOrDefault("DR4J_MODEL", "default")) + "\",\"messages\":[{\"role\":\"user\","
                + "\"content\":\"" + json(prompt) + "\"}],\"max_tokens\":32}";
        FailoverHttpClient.Builder client = FailoverHttpClient.builder(router.build())
                .tryTimeout(Duration.ofSeconds(20)).deadline(Duration.ofSeconds(60));
        if (env.get("DR4J_API_KEY") != null) {
            client.header("Authorization", "Bearer " + env.get("DR4J_API_KEY"));
        }
        try (FailoverHttpClient http = client.build()) {
            for (int i = 1; i <= 5; i++) {
                long t0 = System.nanoTime();
                InferenceResponse r = http.post("v1/chat/completions", body);
                System.out.printf("call %d: %s answered %d in %d ms: %s%n", i, r.endpointId(), r.statusCode(),
                        (System.nanoTime() - t0) / 1_000_000, r.body().length() > 200 ? r.body().substring(0, 200) + "..." : r.body());
            }
            if ("1".equals(env.get("DR4J_STREAM"))) {
                String streamBody = body.substring(0, body.length() - 1) + ",\"stream\":true}";
                var summary = http.stream("v1/chat/completions", streamBody, RESUME_AS_ASSISTANT_PREFIX,
                        event -> System.out.print(delta(event)));
                System.out.printf("%nstreamed %d events from %s, resumed %d times%n", summary.events(), summary.endpointId(),
                        summary.resumes());
            }
        }
    }

    /**
     * Continues a broken chat completion: the text received so far becomes a final assistant
     * message and the server is asked to continue it (vLLM's {@code continue_final_message}).
     */
    private static final StreamResumer RESUME_AS_ASSISTANT_PREFIX = (original, received) -> {
        StringBuilder partial = new StringBuilder();
        for (ServerSentEvent e : received) {
            partial.append(delta(e));
        }
        int end = original.lastIndexOf("}]");
        if (end < 0) {
            return Optional.empty();
        }
        return Optional.of(original.substring(0, end + 1) + ",{\"role\":\"assistant\",\"content\":\"" + json(partial.toString())
                + "\"}]" + original.substring(end + 2, original.length() - 1)
                + ",\"continue_final_message\":true,\"add_generation_prompt\":false}");
    };

    /** The text of one OpenAI chat-completion chunk (a crude extraction, enough for the example). */
    private static String delta(ServerSentEvent event) {
        String d = event.data();
        int i = d.indexOf("\"content\":\"");
        if (i < 0) {
            return "";
        }
        StringBuilder out = new StringBuilder();
        for (int j = i + 11; j < d.length() && d.charAt(j) != '"'; j++) {
            char c = d.charAt(j);
            if (c == '\\' && j + 1 < d.length()) {
                char n = d.charAt(++j);
                out.append(n == 'n' ? '\n' : n);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static String json(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
