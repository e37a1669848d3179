package dev.usagetracker.local;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The WebSocket API of template.yaml as the local runtime needs it: which function each route key
 * ({@code $connect}, {@code $disconnect}) invokes, followed from the route's target integration to the
 * function in its integration URI. Read from the template, like the HTTP routes, never kept twice.
 */
final class WebSocketRoutes {
    private static final Pattern TARGET = Pattern.compile("integrations/\\$\\{(\\w+)}");
    private static final Pattern FUNCTION = Pattern.compile("/functions/\\$\\{(\\w+)(?:\\.(?:Arn|Alias))?}/invocations");

    private WebSocketRoutes() {}

    /** Route key → function logical id, for every WEBSOCKET API of the template. */
    static Map<String, String> of(SamTemplate template) {
        Map<String, String> routes = new LinkedHashMap<>();
        for (SamTemplate.Resource route : template.resourcesOfType("AWS::ApiGatewayV2::Route")) {
            Map<String, Object> p = route.properties();
            if (!(p.get("ApiId") instanceof SamTemplate.Intrinsic api) || !isWebSocket(template, api.argument())) continue;
            if (!(p.get("Target") instanceof SamTemplate.Intrinsic target)) continue;
            Matcher t = TARGET.matcher(String.valueOf(target.argument()));
            if (!t.matches()) continue;
            SamTemplate.Resource integration = template.resources().get(t.group(1));
            if (integration == null || !(integration.properties().get("IntegrationUri") instanceof SamTemplate.Intrinsic uri)) continue;
            Matcher f = FUNCTION.matcher(String.valueOf(uri.argument()));
            if (f.find()) routes.put(String.valueOf(p.get("RouteKey")), f.group(1));
        }
        return routes;
    }

    private static boolean isWebSocket(SamTemplate template, String apiId) {
        SamTemplate.Resource api = template.resources().get(apiId);
        return api != null && "WEBSOCKET".equals(api.properties().get("ProtocolType"));
    }
}
