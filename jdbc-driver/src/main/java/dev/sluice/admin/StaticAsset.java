package dev.sluice.admin;

/** A bundled file served as is (the status page's HTML, CSS and JavaScript). */
record StaticAsset(String contentType, byte[] bytes) {
}
