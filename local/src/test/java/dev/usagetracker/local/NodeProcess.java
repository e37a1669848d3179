package dev.usagetracker.local;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** What the tests that drive Node (the TypeScript SDK, the dashboard in Chromium) share. */
final class NodeProcess {
    private NodeProcess() {
    }

    /** Collects a process's output lines into {@code output} until it closes them. */
    static void read(Process node, List<String> output) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) output.add(line);
        } catch (IOException e) {
            output.add("(output ended: " + e + ")");
        }
    }

    static boolean available() {
        try {
            Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
