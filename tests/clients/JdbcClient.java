// pgjdbc against `seglake serve`, run by tests/serve.rs with Java's single-file launcher:
//   java -cp postgresql.jar tests/clients/JdbcClient.java PORT USER PASSWORD
// What DBeaver and Metabase run first (DatabaseMetaData.getTables / getColumns), then a
// PreparedStatement with a DATE parameter. Prints one line per finding for the test to check.

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.Date;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Properties;

public class JdbcClient {
    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/seglake";
        Properties props = new Properties();
        props.setProperty("user", args[1]);
        props.setProperty("password", args[2]);
        props.setProperty("connectTimeout", "10");
        try (Connection conn = DriverManager.getConnection(url, props)) {
            DatabaseMetaData meta = conn.getMetaData();
            System.out.println("product " + meta.getDatabaseProductName() + " "
                + meta.getDatabaseMajorVersion());
            try (ResultSet tables = meta.getTables(null, null, "%", new String[] {"TABLE", "VIEW"})) {
                while (tables.next()) {
                    System.out.println("table " + tables.getString("TABLE_SCHEM") + "."
                        + tables.getString("TABLE_NAME") + " " + tables.getString("TABLE_TYPE"));
                }
            }
            try (ResultSet columns = meta.getColumns(null, "public", "transactions", "%")) {
                while (columns.next()) {
                    System.out.println("column transactions." + columns.getString("COLUMN_NAME")
                        + " " + columns.getString("TYPE_NAME"));
                }
            }
            String sql = "SELECT count(*) AS orders, sum(amount) AS revenue FROM transactions "
                + "WHERE order_ts < ?";
            try (PreparedStatement statement = conn.prepareStatement(sql)) {
                statement.setDate(1, Date.valueOf("2023-07-01"));
                try (ResultSet rows = statement.executeQuery()) {
                    rows.next();
                    System.out.println("orders_before " + rows.getLong("orders"));
                }
            }
            try (PreparedStatement statement = conn.prepareStatement(
                    "SELECT segment, customers FROM library.rfm_segment_summary "
                    + "WHERE customers >= ? ORDER BY segment")) {
                statement.setInt(1, 1);
                try (ResultSet rows = statement.executeQuery()) {
                    while (rows.next()) {
                        System.out.println("segment " + rows.getString(1) + " " + rows.getLong(2));
                    }
                }
            }
        }
    }
}
