//! Real servers for the object-storage tests, started on 127.0.0.1 and stopped on drop:
//! SeaweedFS (S3), Azurite (Azure Blob Storage), WsgiDAV (HTTP with ranges and WebDAV
//! listing), and misbehaving peers written here: a server that accepts connections and never
//! answers, a proxy that forwards slowly (so a query is still reading when its server is
//! killed), and a proxy that resets, stalls, trickles or refuses on command (`fault_proxy`).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use object_store::aws::AmazonS3Builder;
use object_store::{ObjectStore, ObjectStoreExt};
use tempfile::TempDir;

pub mod fault_proxy;

pub const ACCESS_KEY: &str = "seglake-test-key";
pub const SECRET_KEY: &str = "seglake-test-secret-5f0c9a";

/// Variables that would let the developer's own cloud setup leak into a test.
pub const CLOUD_VARIABLES: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT",
    "AWS_ENDPOINT_URL",
    "AWS_ALLOW_HTTP",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
    "AZURE_STORAGE_USE_EMULATOR",
    "AZURITE_BLOB_STORAGE_URL",
    "AZURE_ALLOW_HTTP",
    "AZURE_STORAGE_ACCOUNT_NAME",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "SEGLAKE_CONFIG",
];

/// `seglake ARGS` in `dir` with only the given cloud settings (HOME is `dir`, so no profile
/// of the developer's is read), no stdin, output captured.
pub fn seglake_command(dir: &Path, args: &[&str], env: &[(&str, String)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_seglake"));
    command
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env("SEGLAKE_HISTORY", dir.join(".history"));
    for name in CLOUD_VARIABLES {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// The folder holding the servers (`venv/bin/weed`, `venv/bin/wsgidav`,
/// `node/node_modules/.bin/azurite-blob`), installed by `tests/servers/install.sh` if needed.
///
/// # Panics
/// When the tools cannot be installed and `CI` is set: CI must run these tests.
pub fn tools() -> Option<PathBuf> {
    static TOOLS: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let found = TOOLS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let status = Command::new("bash")
            .arg(root.join("tests/servers/install.sh"))
            .status()
            .map_err(|e| format!("cannot run tests/servers/install.sh: {e}"))?;
        if !status.success() {
            return Err(format!("tests/servers/install.sh failed ({status})"));
        }
        Ok(root.join("target/test-tools"))
    });
    match found {
        Ok(bin) => Some(bin.clone()),
        Err(reason) if std::env::var_os("CI").is_some() => {
            panic!("object-storage test servers unavailable in CI: {reason}")
        }
        Err(reason) => {
            eprintln!("skipping: object-storage test servers unavailable: {reason}");
            None
        }
    }
}

/// `count` distinct free ports on 127.0.0.1 (held open together while choosing, so no two
/// are the same).
pub fn free_ports(count: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("a free port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("bound").port())
        .collect()
}

/// A SeaweedFS server with one bucket, its S3 API on `endpoint`.
pub struct S3Server {
    child: Child,
    _data: TempDir,
    pub endpoint: String,
    pub bucket: String,
}

impl S3Server {
    /// Starts `weed mini` on free ports and waits until the bucket answers.
    pub async fn start(tools: &Path, bucket: &str) -> Self {
        let data = tempfile::tempdir().expect("a data folder");
        let ports = free_ports(10);
        let port = |i: usize| ports[i].to_string();
        let log = std::fs::File::create(data.path().join("weed.log")).expect("a log file");
        let child = Command::new(tools.join("venv/bin/weed"))
            .arg("mini")
            .arg(format!("-dir={}", data.path().display()))
            .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1"])
            .args([
                "-admin.ui=false",
                "-master.telemetry=false",
                "-webdav=false",
            ])
            .args(["-s3.port.iceberg=0", "-s3.port.lance=0"])
            .arg(format!("-bucket={bucket}"))
            .arg(format!("-master.port={}", port(0)))
            .arg(format!("-master.port.grpc={}", port(1)))
            .arg(format!("-volume.port={}", port(2)))
            .arg(format!("-volume.port.grpc={}", port(3)))
            .arg(format!("-filer.port={}", port(4)))
            .arg(format!("-filer.port.grpc={}", port(5)))
            .arg(format!("-s3.port={}", port(6)))
            .arg(format!("-s3.port.grpc={}", port(7)))
            .arg(format!("-admin.port={}", port(8)))
            .arg(format!("-metricsPort={}", port(9)))
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("weed starts");
        let server = Self {
            child,
            endpoint: format!("http://127.0.0.1:{}", ports[6]),
            bucket: bucket.to_string(),
            _data: data,
        };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&self) {
        let store = self.store();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match store.list_with_delimiter(None).await {
                Ok(_) => return,
                Err(e) if Instant::now() > deadline => {
                    let log = std::fs::read_to_string(self._data.path().join("weed.log"))
                        .unwrap_or_default();
                    panic!("SeaweedFS did not become ready: {e}\n{log}");
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        }
    }

    /// A client of the bucket, for putting test data in and reading results out.
    pub fn store(&self) -> Arc<dyn ObjectStore> {
        Arc::new(
            AmazonS3Builder::new()
                .with_endpoint(&self.endpoint)
                .with_bucket_name(&self.bucket)
                .with_region("us-east-1")
                .with_access_key_id(ACCESS_KEY)
                .with_secret_access_key(SECRET_KEY)
                .with_allow_http(true)
                .build()
                .expect("an S3 client"),
        )
    }

    /// The environment a `seglake` process needs to reach this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.into()),
            ("AWS_ENDPOINT", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }

    /// Kills the server at once, as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Copies every file under `folder` into `store` under `prefix`, keeping relative paths.
pub async fn upload_folder(store: &Arc<dyn ObjectStore>, folder: &Path, prefix: &str) {
    let mut pending = vec![folder.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = path.strip_prefix(folder).expect("inside the folder");
            let key = format!("{prefix}/{}", relative.to_string_lossy());
            let bytes = std::fs::read(&path).expect("readable file");
            store
                .put(&object_store::path::Path::from(key.as_str()), bytes.into())
                .await
                .expect("upload");
        }
    }
}

/// A WsgiDAV server publishing `root` read-write over HTTP.
pub struct HttpServer {
    child: Child,
    pub url: String,
}

impl HttpServer {
    pub fn start(tools: &Path, root: &Path) -> Self {
        let port = free_ports(1)[0];
        let child = Command::new(tools.join("venv/bin/wsgidav"))
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .arg("--root")
            .arg(root)
            .args(["--auth", "anonymous", "--no-config", "-q"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("wsgidav starts");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "WsgiDAV did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Azurite's well-known development account (public, the same in every installation).
pub const AZURITE_ACCOUNT: &str = "devstoreaccount1";
const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// An Azurite Blob Storage emulator with one container.
pub struct AzureServer {
    child: Child,
    _data: TempDir,
    pub url: String,
}

impl AzureServer {
    pub fn start(tools: &Path, container: &str) -> Self {
        let data = tempfile::tempdir().expect("a data folder");
        let port = free_ports(1)[0];
        let child = Command::new(tools.join("node/node_modules/.bin/azurite-blob"))
            .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
            .arg("--location")
            .arg(data.path())
            .args(["--skipApiVersionCheck", "--silent"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("azurite starts");
        let server = Self {
            child,
            _data: data,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match create_container(port, container) {
                Ok(()) => break,
                Err(e) => {
                    assert!(Instant::now() < deadline, "Azurite did not start: {e}");
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        }
        server
    }

    /// The environment a `seglake` process needs to reach this emulator.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AZURE_STORAGE_USE_EMULATOR", "true".into()),
            ("AZURITE_BLOB_STORAGE_URL", self.url.clone()),
            ("AZURE_ALLOW_HTTP", "true".into()),
        ]
    }
}

impl Drop for AzureServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Creates a container with a Shared Key signed request (object_store has no call for it).
fn create_container(port: u16, container: &str) -> Result<(), String> {
    use base64::Engine;
    let engine = base64::engine::general_purpose::STANDARD;
    let date = chrono::Utc::now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let version = "2021-08-06";
    // Verb, eleven empty standard headers, the x-ms- headers, then the resource.
    let to_sign = format!(
        "PUT\n{}x-ms-date:{date}\nx-ms-version:{version}\n/{AZURITE_ACCOUNT}/{AZURITE_ACCOUNT}/\
         {container}\nrestype:container",
        "\n".repeat(11)
    );
    let key = engine.decode(AZURITE_KEY).map_err(|e| e.to_string())?;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
    let signature = engine.encode(ring::hmac::sign(&key, to_sign.as_bytes()).as_ref());
    let request = format!(
        "PUT /{AZURITE_ACCOUNT}/{container}?restype=container HTTP/1.1\r\n\
         Host: 127.0.0.1:{port}\r\nx-ms-date: {date}\r\nx-ms-version: {version}\r\n\
         Authorization: SharedKey {AZURITE_ACCOUNT}:{signature}\r\nContent-Length: 0\r\n\
         Connection: close\r\n\r\n"
    );
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    let status = reply.lines().next().unwrap_or_default().to_string();
    if status.contains(" 201 ") || status.contains(" 409 ") {
        Ok(())
    } else {
        Err(format!("create container: {status}"))
    }
}

/// A server that accepts connections and never answers: a stalled peer.
pub struct SilentServer {
    pub endpoint: String,
    stop: Arc<AtomicBool>,
}

impl SilentServer {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        let endpoint = format!("http://{}", listener.local_addr().expect("bound"));
        listener.set_nonblocking(true).expect("non-blocking");
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut held = Vec::new();
            while !stopping.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => held.push(stream),
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Self { endpoint, stop }
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A proxy's upstream address (`host:port` of `http://host:port`), its listener on a free
/// port of 127.0.0.1, and the endpoint clients use to reach it.
pub fn proxy_listener(upstream: &str) -> (String, TcpListener, String) {
    let upstream = upstream
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
    let endpoint = format!("http://{}", listener.local_addr().expect("bound"));
    (upstream, listener, endpoint)
}

/// A TCP proxy to `upstream` that passes server replies on at about `bytes_per_second` per
/// connection, so reading a lake takes long enough to kill the server part-way.
pub struct SlowProxy {
    pub endpoint: String,
}

impl SlowProxy {
    pub fn start(upstream: &str, bytes_per_second: usize) -> Self {
        let (upstream, listener, endpoint) = proxy_listener(upstream);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&upstream) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                let (client_read, server_write) = (client.try_clone(), server.try_clone());
                if let (Ok(mut from), Ok(mut to)) = (client_read, server_write) {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(Shutdown::Write);
                    });
                }
                std::thread::spawn(move || pace(server, client, bytes_per_second));
            }
        });
        Self { endpoint }
    }
}

fn pace(mut from: TcpStream, mut to: TcpStream, bytes_per_second: usize) {
    let chunk = (bytes_per_second / 20).max(1);
    let mut buffer = vec![0u8; chunk];
    loop {
        match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buffer[..n]).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
    let _ = to.shutdown(Shutdown::Both);
}
