package dev.sluice.jdbc;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.SQLException;

/**
 * The part of {@link SluiceConnection} a real backend connection answers as is: metadata and the factories of
 * driver objects, served by the anchor (the transaction's node, else the primary, else a replica).
 */
abstract class ConnectionBase implements Connection {

    /** The backend connection that answers for the session now. */
    abstract Connection anchor() throws SQLException;

    @Override
    public String nativeSQL(String sql) throws SQLException {
        return anchor().nativeSQL(sql);
    }

    @Override
    public DatabaseMetaData getMetaData() throws SQLException {
        return anchor().getMetaData();
    }

    @Override
    public java.sql.Clob createClob() throws SQLException {
        return anchor().createClob();
    }

    @Override
    public java.sql.Blob createBlob() throws SQLException {
        return anchor().createBlob();
    }

    @Override
    public java.sql.NClob createNClob() throws SQLException {
        return anchor().createNClob();
    }

    @Override
    public java.sql.SQLXML createSQLXML() throws SQLException {
        return anchor().createSQLXML();
    }

    @Override
    public java.sql.Array createArrayOf(String typeName, Object[] elements) throws SQLException {
        return anchor().createArrayOf(typeName, elements);
    }

    @Override
    public java.sql.Struct createStruct(String typeName, Object[] attributes) throws SQLException {
        return anchor().createStruct(typeName, attributes);
    }
}
