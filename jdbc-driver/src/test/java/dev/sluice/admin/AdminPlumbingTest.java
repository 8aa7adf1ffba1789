package dev.sluice.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The admin API's request parsing and output masking, which need no server. */
class AdminPlumbingTest {
    @Test
    void passwordsInMessagesAreMasked() throws Exception {
        String json = AdminJson.mapper().writeValueAsString(List.of(
                "connect to jdbc:postgresql://h:5432/db?user=app&password=hunter2&ssl=true failed",
                "pwd: hunter2", "password authentication failed for user \"app\""));
        assertFalse(json.contains("hunter2"), json);
        assertTrue(json.contains("password=***&ssl=true") && json.contains("pwd: ***"), json);
        assertTrue(json.contains("password authentication failed"), "prose about passwords stays readable: " + json);
    }

    @Test
    void parametersAreStrict() {
        QueryParams q = QueryParams.parse("node=pg%202&force=true", List.of("node", "force"));
        assertEquals("pg 2", q.required("node"));
        assertTrue(q.bool("force", false));
        assertEquals(400, assertThrows(AdminHttpException.class, () -> QueryParams.parse("nod=pg2", List.of("node", "force"))).status());
        AdminHttpException twice = assertThrows(AdminHttpException.class, () -> QueryParams.parse("node=a&node=b", List.of("node")));
        assertTrue(twice.getMessage().contains("'node' given more than once"), twice.getMessage());
        AdminHttpException bool = assertThrows(AdminHttpException.class, () -> QueryParams.parse("force=yes", List.of("force")).bool("force", false));
        assertTrue(bool.getMessage().contains("'force': expected true or false, got 'yes'"), bool.getMessage());
        AdminHttpException missing = assertThrows(AdminHttpException.class, () -> QueryParams.parse(null, List.of("node")).required("node"));
        assertEquals("missing parameter 'node'", missing.getMessage());
    }
}
