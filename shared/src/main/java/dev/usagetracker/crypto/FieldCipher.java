package dev.usagetracker.crypto;

/** Encrypts one attribute of one row; the row's id is bound in as AAD so ciphertext cannot be moved. */
public interface FieldCipher {
    byte[] encrypt(byte[] plaintext, String rowId);

    byte[] decrypt(byte[] ciphertext, String rowId);
}
