//! The Windows service: registration with the Service Control Manager (SCM), the control
//! commands, and `service run`, the entry point the SCM starts.
//!
//! `service run` hands the loaded configuration to the SCM's dispatcher, which calls
//! `service_main` on a thread of its own; that thread drives the usual `serve` on the
//! runtime `main` created. A stop control becomes a [`shutdown::request_stop`], so the
//! server winds down exactly as on Ctrl+C, with the configured grace.

use std::{
    ffi::{OsStr, OsString},
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

use tokio::runtime::Handle;
use windows_service::{
    define_windows_service,
    service::{
        Service, ServiceAccess, ServiceAction, ServiceActionType, ServiceControl,
        ServiceControlAccept, ServiceErrorControl, ServiceExitCode, ServiceFailureActions,
        ServiceFailureResetPeriod, ServiceInfo, ServiceStartType, ServiceState, ServiceStatus,
        ServiceType,
    },
    service_control_handler::{self, ServiceControlHandlerResult, ServiceStatusHandle},
    service_dispatcher,
    service_manager::{ServiceManager, ServiceManagerAccess},
};

use super::{Invocation, SERVICE_NAME, ServiceAction as Action};
use crate::{config::Config, shutdown};

const DISPLAY_NAME: &str = "LLM Proxy 大模型API代理";
const DESCRIPTION: &str = "Large-model API proxy with an admin UI (llm-proxy)";
/// Win32 ERROR_SERVICE_DOES_NOT_EXIST.
const ERROR_SERVICE_DOES_NOT_EXIST: i32 = 1060;
/// Win32 ERROR_SERVICE_ALREADY_RUNNING.
const ERROR_SERVICE_ALREADY_RUNNING: i32 = 1056;
/// How long `start` waits for the service to report that it runs.
const START_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_WAIT_HINT: Duration = Duration::from_secs(60 * 60);

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("cannot {action}: {source}")]
    Scm {
        action: &'static str,
        source: windows_service::Error,
    },
    #[error(
        "service '{}' is not installed (run `llm-proxy service install` as administrator) / 服务未安装",
        SERVICE_NAME
    )]
    NotInstalled,
    #[error(
        "service '{}' did not reach {wanted:?} within {} s (it is {now:?})",
        SERVICE_NAME,
        .timeout.as_secs()
    )]
    Timeout {
        wanted: ServiceState,
        now: ServiceState,
        timeout: Duration,
    },
    #[error(
        "service '{}' stopped while starting: see data\\logs\\llm-proxy.log",
        SERVICE_NAME
    )]
    StoppedWhileStarting,
    #[error("cannot find this executable: {0}")]
    CurrentExe(std::io::Error),
    #[error("service control thread failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("{0}")]
    Serve(String),
}

/// Maps an SCM error to one that says what was being done.
fn scm(action: &'static str) -> impl FnOnce(windows_service::Error) -> ServiceError {
    move |source| ServiceError::Scm { action, source }
}

pub async fn command(action: Action, invocation: Invocation) -> Result<(), ServiceError> {
    let Invocation {
        config,
        global_args,
    } = invocation;
    // A stop lets in-flight requests use the grace, then calls still being recorded use it
    // again (see `process::serve`); the rest is for closing the database.
    let stop_timeout = config.shutdown_grace * 2 + Duration::from_secs(15);
    match action {
        Action::Run => run(config).await,
        Action::Install => blocking(move || install(global_args)).await,
        Action::Uninstall => blocking(move || uninstall(stop_timeout)).await,
        Action::Start => blocking(start).await,
        Action::Stop => blocking(move || stop(stop_timeout)).await,
        Action::Status => blocking(status).await,
    }
}

/// SCM calls block, and waiting for a state polls with sleeps: keep them off the async workers.
async fn blocking<F>(work: F) -> Result<(), ServiceError>
where
    F: FnOnce() -> Result<(), ServiceError> + Send + 'static,
{
    tokio::task::spawn_blocking(work).await?
}

fn manager(access: ServiceManagerAccess) -> Result<ServiceManager, ServiceError> {
    ServiceManager::local_computer(None::<&str>, access)
        .map_err(scm("connect to the service manager (run as administrator)"))
}

fn open(access: ServiceAccess) -> Result<Service, ServiceError> {
    manager(ServiceManagerAccess::CONNECT)?
        .open_service(SERVICE_NAME, access)
        .map_err(|source| match &source {
            windows_service::Error::Winapi(err)
                if err.raw_os_error() == Some(ERROR_SERVICE_DOES_NOT_EXIST) =>
            {
                ServiceError::NotInstalled
            }
            _ => scm("open the service")(source),
        })
}

fn install(global_args: Vec<OsString>) -> Result<(), ServiceError> {
    let manager = manager(ServiceManagerAccess::CONNECT | ServiceManagerAccess::CREATE_SERVICE)?;
    let executable_path = std::env::current_exe().map_err(ServiceError::CurrentExe)?;
    let mut launch_arguments = global_args;
    launch_arguments.extend([OsString::from("service"), OsString::from("run")]);
    let info = ServiceInfo {
        name: SERVICE_NAME.into(),
        display_name: DISPLAY_NAME.into(),
        service_type: ServiceType::OWN_PROCESS,
        start_type: ServiceStartType::AutoStart,
        error_control: ServiceErrorControl::Normal,
        executable_path: executable_path.clone(),
        launch_arguments,
        dependencies: vec![],
        // LocalSystem: it can write the data folder beside the executable wherever that is.
        account_name: None,
        account_password: None,
    };
    let service = manager
        .create_service(&info, ServiceAccess::CHANGE_CONFIG)
        .map_err(scm("create the service"))?;
    service
        .set_description(DESCRIPTION)
        .map_err(scm("set the service description"))?;
    set_restart_on_failure(&service)?;
    println!(
        "服务已安装 / service '{SERVICE_NAME}' installed: {}",
        executable_path.display()
    );
    println!("启动 / start it with: llm-proxy service start");
    Ok(())
}

/// Restarts after 5 s, 30 s, then every 60 s; the count resets after a day without failure.
/// Also, where Windows allows it, when the server exits with an error rather than crashing
/// (e.g. the port is busy). Wine 8 refuses that second setting; the first one then still
/// holds, so it is a warning, not a failed install.
fn set_restart_on_failure(service: &Service) -> Result<(), ServiceError> {
    let restart = |seconds| ServiceAction {
        action_type: ServiceActionType::Restart,
        delay: Duration::from_secs(seconds),
    };
    service
        .update_failure_actions(ServiceFailureActions {
            reset_period: ServiceFailureResetPeriod::After(Duration::from_secs(24 * 60 * 60)),
            reboot_msg: None,
            command: None,
            actions: Some(vec![restart(5), restart(30), restart(60)]),
        })
        .map_err(scm("set the restart-on-failure actions"))?;
    if let Err(err) = service.set_failure_actions_on_non_crash_failures(true) {
        eprintln!(
            "警告 / warning: restart after an error exit could not be enabled ({err}); restart after a crash is set"
        );
    }
    Ok(())
}

fn uninstall(stop_timeout: Duration) -> Result<(), ServiceError> {
    let service = open(ServiceAccess::QUERY_STATUS | ServiceAccess::STOP | ServiceAccess::DELETE)?;
    stop_and_wait(&service, stop_timeout)?;
    service.delete().map_err(scm("delete the service"))?;
    println!("服务已卸载 / service '{SERVICE_NAME}' removed (the data folder is kept)");
    Ok(())
}

fn start() -> Result<(), ServiceError> {
    let service = open(ServiceAccess::QUERY_STATUS | ServiceAccess::START)?;
    match service.start(&[] as &[&OsStr]) {
        // What was asked for is already the case (an automatic start got there first).
        Err(windows_service::Error::Winapi(err))
            if err.raw_os_error() == Some(ERROR_SERVICE_ALREADY_RUNNING) => {}
        other => other.map_err(scm("start the service"))?,
    }
    wait_for(&service, ServiceState::Running, START_TIMEOUT)?;
    println!("服务已启动 / service '{SERVICE_NAME}' is running");
    Ok(())
}

fn stop(stop_timeout: Duration) -> Result<(), ServiceError> {
    let service = open(ServiceAccess::QUERY_STATUS | ServiceAccess::STOP)?;
    stop_and_wait(&service, stop_timeout)?;
    println!("服务已停止 / service '{SERVICE_NAME}' is stopped");
    Ok(())
}

fn stop_and_wait(service: &Service, timeout: Duration) -> Result<(), ServiceError> {
    let state = current_state(service)?;
    if state != ServiceState::Stopped {
        if state != ServiceState::StopPending {
            service.stop().map_err(scm("stop the service"))?;
        }
        wait_for(service, ServiceState::Stopped, timeout)?;
    }
    Ok(())
}

fn status() -> Result<(), ServiceError> {
    let service = open(ServiceAccess::QUERY_STATUS | ServiceAccess::QUERY_CONFIG)?;
    let status = service
        .query_status()
        .map_err(scm("query the service status"))?;
    let config = service
        .query_config()
        .map_err(scm("query the service configuration"))?;
    println!("service / 服务:  {SERVICE_NAME}");
    println!("state / 状态:    {:?}", status.current_state);
    if let Some(pid) = status.process_id.filter(|pid| *pid != 0) {
        println!("process / 进程:  {pid}");
    }
    println!("start / 启动:    {:?}", config.start_type);
    println!("command / 命令:  {}", config.executable_path.display());
    Ok(())
}

fn current_state(service: &Service) -> Result<ServiceState, ServiceError> {
    Ok(service
        .query_status()
        .map_err(scm("query the service status"))?
        .current_state)
}

fn wait_for(
    service: &Service,
    wanted: ServiceState,
    timeout: Duration,
) -> Result<(), ServiceError> {
    let deadline = Instant::now() + timeout;
    loop {
        let now = current_state(service)?;
        if now == wanted {
            return Ok(());
        }
        if wanted == ServiceState::Running && now == ServiceState::Stopped {
            return Err(ServiceError::StoppedWhileStarting);
        }
        if Instant::now() >= deadline {
            return Err(ServiceError::Timeout {
                wanted,
                now,
                timeout,
            });
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Handed from `service run` to `service_main`, which the dispatcher calls without arguments
/// of ours.
static LAUNCH: Mutex<Option<(Handle, Config)>> = Mutex::new(None);

define_windows_service!(ffi_service_main, service_main);

async fn run(config: Config) -> Result<(), ServiceError> {
    *LAUNCH.lock().unwrap_or_else(PoisonError::into_inner) = Some((Handle::current(), config));
    // Returns when the service has stopped; fails at once outside the SCM (from a console).
    tokio::task::spawn_blocking(|| service_dispatcher::start(SERVICE_NAME, ffi_service_main))
        .await?
        .map_err(scm(
            "reach the service dispatcher (`service run` is started by Windows; use `llm-proxy service start`)",
        ))
}

fn service_main(_arguments: Vec<OsString>) {
    let launch = LAUNCH.lock().unwrap_or_else(PoisonError::into_inner).take();
    if let Some((runtime, config)) = launch
        && let Err(err) = runtime.block_on(serve_as_service(config))
    {
        tracing::error!(%err, "the service stopped with an error");
    }
}

async fn serve_as_service(mut config: Config) -> Result<(), ServiceError> {
    // A service has no desktop to show a browser on.
    config.open_browser = false;
    let (stop_tx, mut stop_rx) = tokio::sync::mpsc::unbounded_channel();
    let handler = move |control| match control {
        ServiceControl::Stop | ServiceControl::Shutdown => {
            let _ = stop_tx.send(());
            ServiceControlHandlerResult::NoError
        }
        ServiceControl::Interrogate => ServiceControlHandlerResult::NoError,
        _ => ServiceControlHandlerResult::NotImplemented,
    };
    let status = service_control_handler::register(SERVICE_NAME, handler)
        .map_err(scm("register the service control handler"))?;
    shutdown::set_under_service_manager();
    let accepts = ServiceControlAccept::STOP | ServiceControlAccept::SHUTDOWN;
    report(
        status,
        ServiceState::Running,
        accepts,
        Duration::ZERO,
        ServiceExitCode::NO_ERROR,
    );
    // The SCM considers a stop hung when no progress comes within the wait hint.
    // (Capped: the SCM takes it in u32 milliseconds, and the crate panics beyond that.)
    let stop_hint = (config.shutdown_grace * 2 + Duration::from_secs(10)).min(MAX_WAIT_HINT);
    let stopper = tokio::spawn(async move {
        if stop_rx.recv().await.is_some() {
            tracing::info!("stop requested by the service manager");
            let none = ServiceControlAccept::empty();
            report(
                status,
                ServiceState::StopPending,
                none,
                stop_hint,
                ServiceExitCode::NO_ERROR,
            );
            shutdown::request_stop();
        }
    });
    let result = crate::process::serve(config).await;
    stopper.abort();
    // A non-zero exit code counts as a failure, which triggers the restart actions.
    let exit_code = match &result {
        Ok(()) => ServiceExitCode::NO_ERROR,
        Err(_) => ServiceExitCode::ServiceSpecific(1),
    };
    let none = ServiceControlAccept::empty();
    report(
        status,
        ServiceState::Stopped,
        none,
        Duration::ZERO,
        exit_code,
    );
    result.map_err(ServiceError::Serve)
}

fn report(
    status: ServiceStatusHandle,
    state: ServiceState,
    controls_accepted: ServiceControlAccept,
    wait_hint: Duration,
    exit_code: ServiceExitCode,
) {
    let report = ServiceStatus {
        service_type: ServiceType::OWN_PROCESS,
        current_state: state,
        controls_accepted,
        exit_code,
        checkpoint: 0,
        wait_hint,
        process_id: None,
    };
    if let Err(err) = status.set_service_status(report) {
        tracing::warn!(%err, ?state, "could not report the service state");
    }
}
