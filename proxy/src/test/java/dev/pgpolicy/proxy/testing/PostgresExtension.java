package dev.pgpolicy.proxy.testing;

import dev.pgpolicy.proxy.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Injects the JVM's shared cluster ({@link SharedPostgres}) into test constructors, lifecycle
 * methods and test methods declaring an {@link EmbeddedPostgres} parameter:
 * {@code @ExtendWith(PostgresExtension.class) class MyTest { MyTest(EmbeddedPostgres pg) {...} }}.
 */
public final class PostgresExtension implements ParameterResolver {
    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == EmbeddedPostgres.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return SharedPostgres.get();
    }
}
