/*
 * tls.c - wss://: TLS for the client with OpenSSL over memory BIOs.
 *
 * Why not libwebsockets' TLS: the client's connections are lws raw sockets
 * (the WebSocket is ours, wire.c), and lws 4.1.6 starts TLS on a raw client
 * connection before its socket exists ("tls start fail", lib/core-net/
 * connect.c), so wss:// cannot go through lws. Here lws only moves ciphertext:
 * what arrives (RAW_RX) is written into the SSL's read BIO and the plaintext
 * SSL_read returns goes to the WebSocket layer; what we send goes through
 * SSL_write and the ciphertext collected from the write BIO is handed to
 * lws_write. The handshake is driven the same way.
 *
 * Verification: the peer's chain against tls_ca_file (or OpenSSL's default
 * paths), and its name against the URL's host (a DNS name, or an IP address
 * in the certificate's subjectAltName); SNI carries DNS names. tls_insecure
 * (tests only) turns both checks off. TLS 1.2 at least.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "client/client_int.h"

struct mf_tls {
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl */
    bool done;        /* handshake complete */
};

mf_status mf_tls_ctx_new(mf_client *c, mf_error *err)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return mf_error_set(err, MF_ERR_IO, "", "TLS: SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    int ok = c->ca_file ? SSL_CTX_load_verify_locations(ctx, c->ca_file, NULL) : SSL_CTX_set_default_verify_paths(ctx);
    if (!ok) {
        SSL_CTX_free(ctx);
        return mf_error_set(err, MF_ERR_INVALID_ARG, "", "TLS: cannot load the CA file %s",
                            c->ca_file ? c->ca_file : "(system default)");
    }
    SSL_CTX_set_verify(ctx, c->o.tls_insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    c->ssl_ctx = ctx;
    return MF_OK;
}

void mf_tls_end(mf_client *c)
{
    if (c->tls) {
        SSL_free(c->tls->ssl);
        free(c->tls);
        c->tls = NULL;
    }
}

void mf_tls_ctx_free(mf_client *c)
{
    mf_tls_end(c);
    SSL_CTX_free(c->ssl_ctx);
    c->ssl_ctx = NULL;
}

/* Hands the ciphertext OpenSSL produced to the socket. false when the write failed. */
static bool flush_out(mf_client *c, struct lws *wsi)
{
    unsigned char buf[16384 + 512];
    int n;
    while ((n = BIO_read(c->tls->wbio, buf, sizeof buf)) > 0)
        if (lws_write(wsi, buf, (size_t)n, LWS_WRITE_RAW) < n)
            return false;
    return true;
}

/* The reason for the log: the verification result, or OpenSSL's error queue. */
static void tls_why(mf_client *c, const char *what)
{
    long vr = SSL_get_verify_result(c->tls->ssl);
    unsigned long e = ERR_get_error();
    char buf[120] = "";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    if (vr != X509_V_OK)
        snprintf(c->lost_why, sizeof c->lost_why, "TLS %s: certificate: %s", what, X509_verify_cert_error_string(vr));
    else
        snprintf(c->lost_why, sizeof c->lost_why, "TLS %s: %s", what, buf[0] ? buf : "connection closed");
    mf_client_log(c, MF_LOG_WARN, "%s: %s", c->cur_url, c->lost_why);
}

int mf_tls_start(mf_client *c, struct lws *wsi)
{
    mf_server *s = &c->pool[c->cur];
    mf_tls_end(c);
    c->tls = calloc(1, sizeof *c->tls);
    if (!c->tls || !c->ssl_ctx || !(c->tls->ssl = SSL_new(c->ssl_ctx)))
        return -1;
    c->tls->rbio = BIO_new(BIO_s_mem());
    c->tls->wbio = BIO_new(BIO_s_mem());
    if (!c->tls->rbio || !c->tls->wbio) {
        BIO_free(c->tls->rbio);
        BIO_free(c->tls->wbio);
        return -1;
    }
    SSL_set_bio(c->tls->ssl, c->tls->rbio, c->tls->wbio);
    unsigned char ip[16];
    bool is_ip = inet_pton(AF_INET, s->host, ip) == 1 || inet_pton(AF_INET6, s->host, ip) == 1;
    if (!is_ip)
        SSL_set_tlsext_host_name(c->tls->ssl, s->host);
    if (!c->o.tls_insecure) {
        X509_VERIFY_PARAM *vp = SSL_get0_param(c->tls->ssl);
        if (!(is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, s->host) : X509_VERIFY_PARAM_set1_host(vp, s->host, 0)))
            return -1;
    }
    SSL_set_connect_state(c->tls->ssl);
    return mf_tls_receive(c, wsi, NULL, 0);
}

/* Runs the handshake; 1 done, 0 more to come, -1 failed. */
static int handshake(mf_client *c, struct lws *wsi)
{
    int r = SSL_do_handshake(c->tls->ssl);
    if (!flush_out(c, wsi))
        return -1;
    if (r == 1) {
        c->tls->done = true;
        mf_client_log(c, MF_LOG_DEBUG, "%s: %s with %s", c->cur_url, SSL_get_version(c->tls->ssl),
                      SSL_get_cipher_name(c->tls->ssl));
        return 1;
    }
    int e = SSL_get_error(c->tls->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    tls_why(c, "handshake");
    return -1;
}

int mf_tls_receive(mf_client *c, struct lws *wsi, const unsigned char *in, size_t len)
{
    if (!c->tls)
        return -1;
    if (len && BIO_write(c->tls->rbio, in, (int)len) != (int)len)
        return -1;
    if (!c->tls->done) {
        int h = handshake(c, wsi);
        if (h <= 0)
            return h;
        if (mf_wire_start(c, wsi) < 0)
            return -1;
    }
    for (;;) {
        int n = SSL_read(c->tls->ssl, c->tls_buf, (int)sizeof c->tls_buf);
        if (n <= 0) {
            int e = SSL_get_error(c->tls->ssl, n);
            if (!flush_out(c, wsi))
                return -1;
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                return 0;
            if (e == SSL_ERROR_ZERO_RETURN)
                return -1; /* close_notify: the server is done */
            tls_why(c, "read");
            return -1;
        }
        if (mf_wire_receive(c, wsi, c->tls_buf, (size_t)n) < 0 || c->wsi != wsi)
            return -1;
    }
}

int mf_tls_write(mf_client *c, struct lws *wsi, const unsigned char *p, size_t n)
{
    if (!c->tls || !c->tls->done)
        return -1;
    while (n) {
        int w = SSL_write(c->tls->ssl, p, (int)n);
        if (w <= 0) {
            tls_why(c, "write");
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return flush_out(c, wsi) ? 0 : -1;
}
