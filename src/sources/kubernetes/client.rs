//! Connecting to the cluster (kubeconfig file + context, or in-cluster auth) and turning API
//! errors into one-line messages for the Sources view. Never prints credentials.

use std::path::Path;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::watcher;
use kube::{Client, Config};

use super::config::KubernetesSourceConfig;

/// Builds a client for the configured kubeconfig and context.
pub async fn connect(cfg: &KubernetesSourceConfig) -> Result<Client, String> {
    let timeout = cfg.timeout_duration()?;
    let mut config = if cfg.kubeconfig.is_empty() && cfg.context.is_empty() {
        infer().await?
    } else {
        let (kubeconfig, origin) = if cfg.kubeconfig.is_empty() {
            let kc = Kubeconfig::read().map_err(|e| format!("kubeconfig: {e}"))?;
            (kc, "$KUBECONFIG or ~/.kube/config".to_string())
        } else {
            let path = Path::new(&cfg.kubeconfig);
            if !path.is_file() {
                return Err(format!("kubeconfig {}: file not found", cfg.kubeconfig));
            }
            let kc = Kubeconfig::read_from(path)
                .map_err(|e| format!("kubeconfig {}: {e}", cfg.kubeconfig))?;
            (kc, cfg.kubeconfig.clone())
        };
        check_context(&kubeconfig, &cfg.context, &origin)?;
        let options = KubeConfigOptions {
            context: (!cfg.context.is_empty()).then(|| cfg.context.clone()),
            ..Default::default()
        };
        Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| format!("kubeconfig {origin}: {e}"))?
    };
    config.connect_timeout = Some(timeout);
    Client::try_from(config).map_err(|e| format!("cannot build a Kubernetes client: {e}"))
}

/// The service account files kube reads for in-cluster auth (kube-client `incluster_config`).
const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// What `Config::infer` does (kubeconfig from `$KUBECONFIG` or `~/.kube/config`, else in-cluster
/// from `KUBERNETES_SERVICE_HOST`/`_PORT` and the mounted service account token, which kube
/// re-reads as it rotates), with messages that say which of the two failed and why.
async fn infer() -> Result<Config, String> {
    let kubeconfig_err = match Config::from_kubeconfig(&KubeConfigOptions::default()).await {
        Ok(mut c) => {
            c.apply_debug_overrides();
            return Ok(c);
        }
        Err(e) => flatten(&e.to_string()),
    };
    let host = std::env::var("KUBERNETES_SERVICE_HOST").ok();
    let port = std::env::var("KUBERNETES_SERVICE_PORT").ok();
    match Config::incluster() {
        Ok(mut c) => {
            c.apply_debug_overrides();
            Ok(c)
        }
        Err(e) => Err(incluster_message(
            host.as_deref(),
            port.as_deref(),
            &e,
            &kubeconfig_err,
        )),
    }
}

/// One line for a failed in-cluster setup: not in a cluster at all, or which piece is missing.
fn incluster_message(
    host: Option<&str>,
    port: Option<&str>,
    e: &kube::config::InClusterError,
    kubeconfig_err: &str,
) -> String {
    use kube::config::InClusterError as E;
    let Some(host) = host else {
        return format!(
            "no usable kubeconfig ($KUBECONFIG or ~/.kube/config: {kubeconfig_err}) and not running in a cluster (KUBERNETES_SERVICE_HOST is not set)"
        );
    };
    let what = match e {
        E::ReadEnvironmentVariable(_) => "KUBERNETES_SERVICE_PORT is not set".to_string(),
        E::ParseClusterPort(_) => format!(
            "KUBERNETES_SERVICE_PORT '{}' is not a port number",
            port.unwrap_or_default()
        ),
        E::ParseClusterUrl(err) => format!("KUBERNETES_SERVICE_HOST '{host}': {err}"),
        E::ReadDefaultNamespace(err) => {
            format!("cannot read {SERVICE_ACCOUNT_DIR}/namespace: {err} (is a service account token mounted?)")
        }
        E::ReadCertificateBundle(err) => format!("cannot read {SERVICE_ACCOUNT_DIR}/ca.crt: {err}"),
        E::ParseCertificates(err) => format!("{SERVICE_ACCOUNT_DIR}/ca.crt: {err}"),
    };
    format!("in-cluster auth (KUBERNETES_SERVICE_HOST={host}): {what}")
}

/// A named context must exist; the message lists the ones that do.
fn check_context(kc: &Kubeconfig, context: &str, origin: &str) -> Result<(), String> {
    let names: Vec<&str> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
    if context.is_empty() {
        return match kc.current_context.as_deref() {
            Some(c) if names.contains(&c) => Ok(()),
            Some(c) => Err(format!(
                "kubeconfig {origin}: current-context '{c}' is not among its contexts ({})",
                names.join(", ")
            )),
            None => Err(format!(
                "kubeconfig {origin}: no current-context; set `context` (contexts: {})",
                names.join(", ")
            )),
        };
    }
    if names.contains(&context) {
        Ok(())
    } else {
        Err(format!(
            "kubeconfig {origin}: no context named '{context}' (contexts: {})",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        ))
    }
}

/// How an API failure should be treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// 403: RBAC does not allow it; retried (permissions can be granted).
    Forbidden,
    /// 404 on a list: the API version or CRD is not served by this cluster.
    NotServed,
    /// 401: credentials missing or expired.
    Unauthorized,
    /// 410 Gone: the watch's resource version is too old; the watcher relists on its own.
    Expired,
    /// Connection, timeout, 5xx, throttling: retried with backoff.
    Other,
}

/// Classifies a watch error and says it in one line.
pub fn describe(e: &watcher::Error) -> (Failure, String) {
    match e {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => describe_request(e),
        watcher::Error::WatchError(status) => {
            status_failure(status.code, &status.message, &status.reason)
        }
        watcher::Error::NoResourceVersion => (
            Failure::Other,
            "the API server sent objects without metadata.resourceVersion".to_string(),
        ),
    }
}

/// Classifies a failed request outside a watch (the first version probe).
pub fn describe_request(e: &kube::Error) -> (Failure, String) {
    match e {
        kube::Error::Api(status) => status_failure(status.code, &status.message, &status.reason),
        other => (Failure::Other, flatten(&other.to_string())),
    }
}

fn status_failure(code: u16, message: &str, reason: &str) -> (Failure, String) {
    let detail = if message.is_empty() { reason } else { message };
    match code {
        403 => (Failure::Forbidden, format!("forbidden by RBAC: {detail}")),
        404 => (
            Failure::NotServed,
            "not served by this cluster (API version or CRD not installed)".to_string(),
        ),
        401 => (
            Failure::Unauthorized,
            format!("unauthorized (credentials missing or expired): {detail}"),
        ),
        410 => (
            Failure::Expired,
            format!("watch expired (410 Gone), relisting: {detail}"),
        ),
        429 => (
            Failure::Other,
            format!("throttled by the API server (429): {detail}"),
        ),
        _ => (Failure::Other, format!("HTTP {code}: {detail}")),
    }
}

fn flatten(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_are_checked_by_name() {
        let kc: Kubeconfig = serde_yaml_ng::from_str(
            "apiVersion: v1\nkind: Config\ncurrent-context: prod\ncontexts:\n- name: prod\n  context: {cluster: c, user: u}\n- name: staging\n  context: {cluster: c, user: u}\nclusters: []\nusers: []\n",
        )
        .unwrap();
        assert!(check_context(&kc, "", "k").is_ok());
        assert!(check_context(&kc, "staging", "k").is_ok());
        let e = check_context(&kc, "dev", "/tmp/k").unwrap_err();
        assert_eq!(
            e,
            "kubeconfig /tmp/k: no context named 'dev' (contexts: prod, staging)"
        );
    }

    #[test]
    fn statuses_become_one_line_messages() {
        assert_eq!(status_failure(404, "x", "NotFound").0, Failure::NotServed);
        let (f, m) = status_failure(410, "too old resource version: 1 (2)", "Expired");
        assert_eq!(f, Failure::Expired);
        assert_eq!(
            m,
            "watch expired (410 Gone), relisting: too old resource version: 1 (2)"
        );
        let (f, m) = status_failure(403, "hpa is forbidden: User \"u\" cannot list", "Forbidden");
        assert_eq!(f, Failure::Forbidden);
        assert!(m.starts_with("forbidden by RBAC: hpa is forbidden"), "{m}");
        assert_eq!(
            status_failure(401, "", "Unauthorized").0,
            Failure::Unauthorized
        );
    }

    #[test]
    fn in_cluster_failures_name_the_missing_piece() {
        use kube::config::InClusterError as E;
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
        let m = incluster_message(
            None,
            None,
            &E::ReadDefaultNamespace(io()),
            "no ~/.kube/config",
        );
        assert!(
            m.contains("not running in a cluster (KUBERNETES_SERVICE_HOST is not set)"),
            "{m}"
        );
        assert!(m.contains("no ~/.kube/config"), "{m}");
        let m = incluster_message(
            Some("10.96.0.1"),
            Some("443"),
            &E::ReadDefaultNamespace(io()),
            "",
        );
        assert_eq!(m, "in-cluster auth (KUBERNETES_SERVICE_HOST=10.96.0.1): cannot read /var/run/secrets/kubernetes.io/serviceaccount/namespace: No such file or directory (is a service account token mounted?)");
        let port_err = "x".parse::<u16>().unwrap_err();
        let m = incluster_message(
            Some("10.96.0.1"),
            Some("https"),
            &E::ParseClusterPort(port_err),
            "",
        );
        assert!(
            m.ends_with("KUBERNETES_SERVICE_PORT 'https' is not a port number"),
            "{m}"
        );
    }
}
