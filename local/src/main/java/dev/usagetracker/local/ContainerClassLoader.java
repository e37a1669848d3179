package dev.usagetracker.local;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.Collections;
import java.util.Enumeration;

/**
 * Loads a function jar child-first, as Lambda does: each container gets its own copy of the
 * function's classes and static state (composition root, caches, SDK clients). Only the Lambda
 * runtime interfaces and event types come from the runtime, as on AWS, so events can be handed over.
 */
final class ContainerClassLoader extends URLClassLoader {
    private static final String RUNTIME_PACKAGE = "com.amazonaws.services.lambda.runtime.";

    ContainerClassLoader(String name, URL jar, ClassLoader runtime) {
        super(name, new URL[] {jar}, runtime);
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        if (name.startsWith(RUNTIME_PACKAGE) || name.startsWith("java.") || name.startsWith("javax.")
                || name.startsWith("jdk.") || name.startsWith("sun.")) {
            return super.loadClass(name, resolve);
        }
        synchronized (getClassLoadingLock(name)) {
            Class<?> c = findLoadedClass(name);
            if (c == null) {
                try {
                    c = findClass(name);
                } catch (ClassNotFoundException notInJar) {
                    // A class missing from the function jar would break on AWS too: fail here as well.
                    throw new ClassNotFoundException(name + " is not in the function jar " + getURLs()[0]);
                }
            }
            if (resolve) resolveClass(c);
            return c;
        }
    }

    @Override
    public URL getResource(String name) {
        URL url = findResource(name);
        return url != null ? url : getParent().getResource(name);
    }

    @Override
    public Enumeration<URL> getResources(String name) throws IOException {
        Enumeration<URL> own = findResources(name);
        return own.hasMoreElements() ? own : Collections.emptyEnumeration();
    }
}
