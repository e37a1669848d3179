package dev.usagetracker.functions;

import dev.usagetracker.App;

/** The container's composition root, created once by the first handler and kept across invocations. */
final class Container {
    private static final App APP = App.fromEnvironment();

    private Container() {}

    static App app() {
        return APP;
    }
}
