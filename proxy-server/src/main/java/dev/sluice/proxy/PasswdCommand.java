package dev.sluice.proxy;

import dev.sluice.proxy.mysql.MyAuth;
import dev.sluice.proxy.pg.PgProxy;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code ./sluice passwd USER}: reads a password on stdin, prints the users entry (a SCRAM verifier, or for the
 * MySQL proxy a SHA-256-crypt string or a mysql_native_password hash; never the password).
 */
@Command(name = "passwd", mixinStandardHelpOptions = true,
        description = "Read a password from standard input and print a users: entry with its SCRAM-SHA-256 verifier "
                + "(PostgreSQL proxy), or with --mysql / --mysql-native the secret for the MySQL proxy.")
final class PasswdCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "User name clients will log in with.")
    String user;

    @picocli.CommandLine.Option(names = "--mysql", description = "MySQL proxy, caching_sha2_password: a salted SHA-256-crypt string ($5$...).")
    boolean mysql;

    @picocli.CommandLine.Option(names = "--mysql-native", description = "MySQL proxy, mysql_native_password: *HEX (SHA1(SHA1(password))), "
            + "as MySQL/MariaDB store it; for clients without caching_sha2_password.")
    boolean mysqlNative;

    @Override
    public Integer call() throws Exception {
        String password = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        if (password == null || password.isEmpty()) {
            System.err.println("sluice passwd: no password on standard input");
            return 2;
        }
        if (mysql && mysqlNative) {
            System.err.println("sluice passwd: --mysql and --mysql-native exclude each other");
            return 2;
        }
        String secret = mysql ? MyAuth.sha2Hash(password) : mysqlNative ? MyAuth.nativeHash(password) : PgProxy.scramVerifier(password);
        System.out.println("- { name: " + user + ", password: \"" + secret + "\" }");
        return 0;
    }
}
