package dev.sluice.proxy;

import dev.sluice.proxy.pg.PgProxy;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code ./sluice passwd USER}: reads a password on stdin, prints the users entry (a SCRAM verifier, never the password). */
@Command(name = "passwd", mixinStandardHelpOptions = true,
        description = "Read a password from standard input and print a users: entry with its SCRAM-SHA-256 verifier.")
final class PasswdCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "User name clients will log in with.")
    String user;

    @Override
    public Integer call() throws Exception {
        String password = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        if (password == null || password.isEmpty()) {
            System.err.println("sluice passwd: no password on standard input");
            return 2;
        }
        System.out.println("- { name: " + user + ", password: \"" + PgProxy.scramVerifier(password) + "\" }");
        return 0;
    }
}
