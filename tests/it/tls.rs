//! TLS trust: a server with a certificate from a private CA works only when that CA is
//! trusted with `--ca-cert` or `SSL_CERT_FILE`. The certificate is made with the `openssl`
//! command and served by a few lines of Python (both installed by scripts/setup-peers.sh).

use crate::support::run_once;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

const INIT: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;

/// A minimal MCP endpoint over HTTPS: answers `initialize`, accepts the rest.
const SERVER: &str = r#"
import http.server, json, ssl, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
        if "id" not in body:
            self.send_response(202); self.end_headers(); return
        out = json.dumps({"jsonrpc": "2.0", "id": body["id"], "result": {"protocolVersion": "2025-06-18",
              "capabilities": {}, "serverInfo": {"name": "tls", "version": "1"}}}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    def do_GET(self):
        self.send_response(405); self.end_headers()
    do_DELETE = do_GET
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[1], sys.argv[2])
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

pub(crate) struct TlsServer {
    child: Child,
    pub(crate) port: u16,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Makes a CA and a server certificate for 127.0.0.1 and localhost signed by it; returns
/// the CA certificate path.
pub(crate) fn make_certificates(dir: &Path) -> std::path::PathBuf {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("the openssl command is needed (scripts/setup-peers.sh installs it)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=mcp-bridge test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    run(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "server.pem",
    ]);
    dir.join("ca.pem")
}

pub(crate) fn start_server(dir: &Path) -> TlsServer {
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(SERVER)
        .arg(dir.join("server.pem"))
        .arg(dir.join("server.key"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is needed (scripts/setup-peers.sh installs it)");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("the TLS server did not start: {line:?}"));
    TlsServer { child, port }
}

/// A private CA is rejected by default and accepted with `--ca-cert` or `SSL_CERT_FILE`.
#[test]
fn private_ca_needs_to_be_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let ca = make_certificates(dir.path());
    let server = start_server(dir.path());
    let url = format!("https://localhost:{}/mcp", server.port);
    let ca = ca.to_str().unwrap();
    let input = format!("{INIT}\n");

    let (code, stdout, _) = run_once(&[&url, "--store", "memory"], &[], &input);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("certificate") || stdout.contains("could not reach"),
        "untrusted: {stdout}"
    );
    assert!(!stdout.contains("\"result\""), "{stdout}");

    let (code, stdout, stderr) = run_once(&[&url, "--ca-cert", ca], &[], &input);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("\"serverInfo\""),
        "--ca-cert: {stdout} {stderr}"
    );

    let (code, stdout, stderr) = run_once(&[&url], &[("SSL_CERT_FILE", ca)], &input);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("\"serverInfo\""),
        "SSL_CERT_FILE: {stdout} {stderr}"
    );

    let (code, stdout, stderr) = run_once(&[&url], &[("MCP_BRIDGE_CA_CERT", ca)], &input);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("\"serverInfo\""),
        "MCP_BRIDGE_CA_CERT: {stdout} {stderr}"
    );
}
