//! `-r hadoop` on a real HDFS + YARN mini cluster (2 NodeManagers) and
//! `-r spark` on a real Spark standalone cluster (a master and 2 workers):
//! yelp-top-city, word-count and terasort over inputs of 4+ MiB print
//! exactly what the local runner prints.
//!
//! Each test starts its cluster in a temporary directory
//! (`engines/hadoop/minicluster.sh`, `engines/spark/standalone.sh`) and
//! stops it whatever happens (a guard's `Drop`), after `engines/install.sh`
//! has put the engines in `<repo>/.engines` (a failure there fails the
//! test). The two run one after the other: the mini cluster binds fixed
//! ports and both want the machine's cores. Every command has a time
//! limit, so a stuck cluster fails the test instead of hanging it.
//!
//! ```sh
//! cargo test --release -p mapreduce-jobs --test clusters -- --nocapture
//! ```
//!
//! Each job's wall time and (on Hadoop) its map task counts are printed
//! on stderr.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One cluster at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// A block size well under the inputs' sizes, so that each is several
/// splits (map tasks) on HDFS.
const BLOCK: &str = "dfs.blocksize=1048576";

fn mr_run() -> &'static str {
    env!("CARGO_BIN_EXE_mr-run")
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("the repository root")
}

/// What a command left, read from the files its output went to.
struct Ran {
    ok: bool,
    stdout: Vec<u8>,
    stderr: String,
    seconds: f64,
}

/// Runs `cmd` with its stdout and stderr in files under `dir` (named
/// after `name`), killing it after `limit`.
fn run(mut cmd: Command, dir: &Path, name: &str, limit: Duration) -> Ran {
    let out_path = dir.join(format!("{name}.stdout"));
    let err_path = dir.join(format!("{name}.stderr"));
    let shown = format!("{cmd:?}");
    cmd.stdin(Stdio::null())
        .stdout(File::create(&out_path).unwrap())
        .stderr(File::create(&err_path).unwrap());
    let started = Instant::now();
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            // SIGTERM first: mr-run cleans up (and stops its engine client).
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            std::thread::sleep(Duration::from_secs(10));
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{name}: still running after {limit:?}: {shown}\nstderr:\n{}",
                tail(&std::fs::read_to_string(&err_path).unwrap_or_default(), 40)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    Ran {
        ok: status.success(),
        stdout: std::fs::read(&out_path).unwrap(),
        stderr: String::from_utf8_lossy(&std::fs::read(&err_path).unwrap()).into_owned(),
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// `run`, which must succeed.
fn run_ok(cmd: Command, dir: &Path, name: &str, limit: Duration) -> Ran {
    let shown = format!("{cmd:?}");
    let ran = run(cmd, dir, name, limit);
    assert!(ran.ok, "{name} failed: {shown}\nstderr:\n{}", tail(&ran.stderr, 60));
    ran
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The last `lines` lines of a file, for a failure message.
fn tail_file(path: &Path, lines: usize) -> String {
    tail(&std::fs::read_to_string(path).unwrap_or_default(), lines)
}

/// `bash engines/install.sh`: the engines must be there (installed or
/// up to date); a failure fails the test.
fn install(dir: &Path) {
    let mut cmd = Command::new("bash");
    cmd.arg(repo().join("engines/install.sh")).current_dir(repo());
    run_ok(cmd, dir, "install", Duration::from_secs(900));
}

/// A cluster started by one of the engines' scripts, stopped (and its
/// directory removed) when this goes.
struct Cluster {
    script: PathBuf,
    dir: PathBuf,
    /// What `start` printed on stdout.
    started: String,
    // Dropped after `drop` has stopped the cluster.
    _temp: tempfile::TempDir,
}

impl Cluster {
    /// `bash SCRIPT start DIR`; the guard exists before the start, so a
    /// half-started cluster is stopped too.
    fn start(script: &str, temp: tempfile::TempDir, logs: &[&str]) -> Cluster {
        let dir = temp.path().join("cluster");
        let mut cluster = Cluster {
            script: repo().join(script),
            dir,
            started: String::new(),
            _temp: temp,
        };
        let mut cmd = Command::new("bash");
        cmd.arg(&cluster.script).arg("start").arg(&cluster.dir);
        let ran = run(cmd, cluster._temp.path(), "cluster-start", Duration::from_secs(240));
        if !ran.ok {
            let logs: Vec<String> = logs
                .iter()
                .map(|l| format!("--- {l}:\n{}", tail_file(&cluster.dir.join(l), 30)))
                .collect();
            panic!("{script} start failed:\n{}\n{}", ran.stderr, logs.join("\n"));
        }
        cluster.started = String::from_utf8(ran.stdout).unwrap();
        eprintln!("{script}: started in {:.1} s", ran.seconds);
        cluster
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let started = Instant::now();
        let stopped = Command::new("bash")
            .arg(&self.script)
            .arg("stop")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .status();
        match stopped {
            Ok(s) if s.success() => eprintln!(
                "{}: stopped in {:.1} s",
                self.script.display(),
                started.elapsed().as_secs_f64()
            ),
            other => eprintln!(
                "warning: {} stop {}: {other:?}",
                self.script.display(),
                self.dir.display()
            ),
        }
    }
}

/// The three inputs, each 4+ MiB (several 1 MiB blocks): Yelp-like
/// business lines, English-like text, and teragen's 100-byte records.
struct Inputs {
    yelp: PathBuf,
    text: PathBuf,
    tera: PathBuf,
}

fn generate(dir: &Path) -> Inputs {
    let yelp = dir.join("business.json");
    let text = dir.join("text.txt");
    let tera_dir = dir.join("tera");
    let generate_one = |args: &[&str], name: &str| {
        let mut cmd = Command::new(mr_run());
        cmd.args(args);
        run_ok(cmd, dir, name, Duration::from_secs(120));
    };
    generate_one(
        &[
            "gen",
            "yelp",
            "--size",
            "5M",
            "--seed",
            "1",
            "-o",
            yelp.to_str().unwrap(),
        ],
        "gen-yelp",
    );
    generate_one(
        &[
            "gen",
            "text",
            "--size",
            "5M",
            "--seed",
            "2",
            "-o",
            text.to_str().unwrap(),
        ],
        "gen-text",
    );
    generate_one(
        &[
            "teragen",
            "--rows",
            "50000",
            "--seed",
            "7",
            "-q",
            "-o",
            tera_dir.to_str().unwrap(),
        ],
        "teragen",
    );
    let tera = tera_dir.join("part-00000");
    for input in [&yelp, &text, &tera] {
        let len = std::fs::metadata(input).unwrap().len();
        assert!(len >= 4 << 20, "{} is {len} bytes, want 4 MiB or more", input.display());
    }
    Inputs { yelp, text, tera }
}

/// The jobs both tests run: (job, reducers).
const JOBS: [(&str, u32); 3] = [("yelp-top-city", 1), ("word-count", 3), ("terasort", 3)];

impl Inputs {
    fn local(&self, job: &str) -> &Path {
        match job {
            "yelp-top-city" => &self.yelp,
            "word-count" => &self.text,
            "terasort" => &self.tera,
            _ => unreachable!(),
        }
    }
}

/// The joins on a cluster: the reduce-side one with its two named inputs
/// uploaded by the runner, the broadcast one with its side file shipped
/// to every node; both with the job's `--min-reviews` for every task and
/// two reducers. Each case: the job, its arguments, what `-r local`
/// prints with them.
fn join_cases(dir: &Path, business: &Path) -> Vec<(&'static str, Vec<std::ffi::OsString>, Vec<u8>)> {
    let reviews = dir.join("review.json");
    let mut cmd = Command::new(mr_run());
    cmd.args([
        "gen",
        "yelp-reviews",
        "--size",
        "3M",
        "--seed",
        "3",
        "--malformed-per-mille",
        "2",
        "--business",
    ])
    .arg(business)
    .arg("-o")
    .arg(&reviews);
    run_ok(cmd, dir, "gen-reviews", Duration::from_secs(120));
    let named = |name: &str, path: &Path| {
        let mut arg = std::ffi::OsString::from(format!("{name}="));
        arg.push(path);
        arg
    };
    let common = ["--min-reviews", "2", "--reducers", "2", "-q"];
    let cases: Vec<(&str, Vec<std::ffi::OsString>)> = vec![
        (
            "yelp-city-reviews",
            vec![
                "--input".into(),
                named("business", business),
                "--input".into(),
                named("review", &reviews),
            ],
        ),
        (
            "yelp-city-reviews-broadcast",
            vec!["--side".into(), named("business", business), reviews.clone().into()],
        ),
    ];
    cases
        .into_iter()
        .map(|(job, mut args)| {
            args.extend(common.iter().map(Into::into));
            let mut cmd = Command::new(mr_run());
            cmd.arg(job).args(&args);
            let ran = run_ok(cmd, dir, &format!("local-{job}"), Duration::from_secs(120));
            assert!(ran.stdout.len() > 100, "{job}: the local runner printed too little");
            (job, args, ran.stdout)
        })
        .collect()
}

/// `mr-run JOB INPUT --reducers R -q`: what the cluster runs must print.
fn local_output(dir: &Path, job: &str, input: &Path, reducers: u32) -> Vec<u8> {
    let mut cmd = Command::new(mr_run());
    cmd.arg(job)
        .arg(input)
        .args(["--reducers", &reducers.to_string(), "-q"]);
    let ran = run_ok(cmd, dir, &format!("local-{job}"), Duration::from_secs(120));
    assert!(!ran.stdout.is_empty(), "{job}: the local runner printed nothing");
    ran.stdout
}

/// Runs `job` on `engine` and checks that it succeeds and prints
/// `expected`.
fn run_equal(cmd: Command, work: &Path, engine: &str, job: &str, expected: &[u8]) -> Ran {
    let ran = run(cmd, work, &format!("{engine}-{job}"), Duration::from_secs(180));
    assert!(
        ran.ok,
        "{job} -r {engine} failed after {:.1} s:\n{}",
        ran.seconds,
        tail(&ran.stderr, 60)
    );
    assert!(
        ran.stdout == expected,
        "{job} -r {engine} differs from the local runner: {}",
        first_difference(expected, &ran.stdout)
    );
    ran
}

/// Where the outputs differ first, for a failure message.
fn first_difference(a: &[u8], b: &[u8]) -> String {
    let at = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let line = a[..at].iter().filter(|&&c| c == b'\n').count() + 1;
    let show = |s: &[u8]| {
        let from = s[..at.min(s.len())]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |p| p + 1);
        let to = s[from..].iter().position(|&c| c == b'\n').map_or(s.len(), |p| from + p);
        String::from_utf8_lossy(&s[from..to]).into_owned()
    };
    format!(
        "{} vs {} bytes; first difference at byte {at}, line {line}:\n  local:   {:?}\n  cluster: {:?}",
        a.len(),
        b.len(),
        show(a),
        show(b)
    )
}

/// The environment of a Hadoop client command (`hadoop fs`, `hadoop jar`,
/// and `mr-run -r hadoop`, whose `hadoop` commands inherit it): the mini
/// cluster's conf dir, and client JVMs that start cheaply (C1 only, the
/// serial GC; the mini cluster gives its task JVMs the same).
fn client_env(conf: &Path) -> [(&'static str, std::ffi::OsString); 2] {
    [
        ("HADOOP_CONF_DIR", conf.as_os_str().to_owned()),
        ("HADOOP_OPTS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC".into()),
    ]
}

/// A Hadoop counter of step `step` in a `--stats` report.
fn counter(stats: &serde_json::Value, step: usize, group: &str, name: &str) -> Option<i64> {
    stats["steps"][step]["counters"][group][name].as_i64()
}

#[test]
fn hadoop_mini_cluster_with_two_node_managers_prints_what_the_local_runner_prints() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let temp = tempfile::tempdir().unwrap();
    let work = temp.path().to_path_buf();
    install(&work);
    let inputs = generate(&work);
    let cluster = Cluster::start(
        "engines/hadoop/minicluster.sh",
        temp,
        &["minicluster.err", "minicluster.out"],
    );
    let conf = cluster.dir.join("conf");
    let root = repo();
    let hadoop = root.join("engines/hadoop/hadoop");
    let jar = root.join(".engines/hadoop/hadoop-streaming.jar");

    // Two NodeManagers really run.
    let mut nodes = Command::new(&hadoop);
    nodes
        .args(["org.apache.hadoop.yarn.client.cli.NodeCLI", "-list"])
        .envs(client_env(&conf));
    let nodes = run_ok(nodes, &work, "yarn-node-list", Duration::from_secs(60));
    let listing = String::from_utf8_lossy(&nodes.stdout).into_owned();
    assert!(listing.contains("Total Nodes:2"), "want 2 NodeManagers:\n{listing}");

    // yelp-top-city reads an hdfs:// URI this test put there (1 MiB
    // blocks); word-count and terasort get local files, which the runner
    // uploads itself (with -D dfs.blocksize). terasort must: it samples
    // its input here.
    let details: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(cluster.dir.join("details.json")).unwrap()).unwrap();
    let nn_port = details["namenode_port"]
        .as_u64()
        .expect("namenode_port in details.json");
    let on_hdfs = format!("hdfs://localhost:{nn_port}/mr-run-test/business.json");
    let mut put = Command::new(&hadoop);
    put.args(["fs", "-D", BLOCK, "-put"])
        .arg(&inputs.yelp)
        .arg(&on_hdfs)
        .envs(client_env(&conf));
    let mut mkdir = Command::new(&hadoop);
    mkdir
        .args(["fs", "-mkdir", "-p", &format!("hdfs://localhost:{nn_port}/mr-run-test")])
        .envs(client_env(&conf));
    run_ok(mkdir, &work, "hdfs-mkdir", Duration::from_secs(60));
    run_ok(put, &work, "hdfs-put", Duration::from_secs(60));

    let mut summary = Vec::new();
    for (job, reducers) in JOBS {
        let expected = local_output(&work, job, inputs.local(job), reducers);
        let input: &str = if job == "yelp-top-city" {
            &on_hdfs
        } else {
            inputs.local(job).to_str().unwrap()
        };
        let stats_path = work.join(format!("hadoop-{job}.stats.json"));
        let mut cmd = Command::new(mr_run());
        cmd.arg(job)
            .arg(input)
            .args(["-r", "hadoop", "--hadoop-bin"])
            .arg(&hadoop)
            .arg("--hadoop-streaming-jar")
            .arg(&jar)
            .args(["--reducers", &reducers.to_string(), "-D", BLOCK, "--stats"])
            .arg(&stats_path)
            .arg("-q")
            .envs(client_env(&conf))
            .current_dir(&work);
        let ran = run_equal(cmd, &work, "hadoop", job, &expected);
        let stats: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&stats_path).unwrap()).unwrap();
        let steps = stats["steps"].as_array().map_or(0, Vec::len);
        let maps: Vec<String> = (0..steps)
            .map(|s| {
                let launched = counter(&stats, s, "Job Counters", "Launched map tasks");
                let local = counter(&stats, s, "Job Counters", "Data-local map tasks");
                let killed = counter(&stats, s, "Job Counters", "Killed map tasks").unwrap_or(0);
                let seconds = stats["steps"][s]["seconds"].as_f64().unwrap_or(0.0);
                format!(
                    "step {}: {} map tasks launched ({} data-local, {killed} killed), {} reduce, {seconds:.1} s",
                    s + 1,
                    launched.map_or("?".into(), |n| n.to_string()),
                    local.map_or("?".into(), |n| n.to_string()),
                    counter(&stats, s, "Job Counters", "Launched reduce tasks").unwrap_or(0),
                )
            })
            .collect();
        let line = format!(
            "hadoop {job} --reducers {reducers}: {:.1} s wall, {}",
            ran.seconds,
            maps.join("; ")
        );
        eprintln!("{line}");
        summary.push(line);
        // The step that reads the job's input ran on several splits.
        let first = counter(&stats, 0, "Job Counters", "Launched map tasks")
            .unwrap_or_else(|| panic!("{job}: no Job Counters/Launched map tasks in {stats}"));
        assert!(
            first >= 4,
            "{job}: Hadoop ran {first} map tasks, want 4 or more (1 MiB blocks)"
        );
    }

    // The reduce-side join only: its named inputs must resolve on YARN.
    // The broadcast join's side file travels by the same `-files` as on
    // Hadoop's local job runner (engines.rs) and runs on the Spark
    // cluster below; each YARN job costs half a minute of container
    // start-up, and CI has 30 minutes.
    let joins = join_cases(&work, &inputs.yelp);
    for (job, args, expected) in joins.into_iter().filter(|(job, ..)| *job == "yelp-city-reviews") {
        let mut cmd = Command::new(mr_run());
        cmd.arg(job)
            .args(&args)
            .args(["-r", "hadoop", "--hadoop-bin"])
            .arg(&hadoop)
            .arg("--hadoop-streaming-jar")
            .arg(&jar)
            .args(["-D", BLOCK])
            .envs(client_env(&conf))
            .current_dir(&work);
        let ran = run_equal(cmd, &work, "hadoop", job, &expected);
        let line = format!("hadoop {job} --reducers 2: {:.1} s wall", ran.seconds);
        eprintln!("{line}");
        summary.push(line);
    }

    // A mapper that fails on one record: the job's error is the task's
    // own paragraph, which stays in its container's log on YARN (the
    // runner fetches it with YARN's LogsCLI once the logs are aggregated).
    let bad = work.join("business.json");
    std::fs::write(
        &bad,
        b"{\"city\": \"Reno\", \"state\": \"NV\", \"stars\": 4.5, \"review_count\": 3, \"is_open\": 1}\nnot json\n",
    )
    .unwrap();
    let mut cmd = Command::new(mr_run());
    cmd.arg("yelp-city-stats")
        .arg(&bad)
        .args(["-r", "hadoop", "--hadoop-bin"])
        .arg(&hadoop)
        .arg("--hadoop-streaming-jar")
        .arg(&jar)
        .args(["--max-attempts", "1", "-q"])
        .envs(client_env(&conf))
        .current_dir(&work);
    let failed = run(cmd, &work, "hadoop-failing-mapper", Duration::from_secs(180));
    assert!(!failed.ok, "the failing mapper's job succeeded");
    // Hadoop cuts even this file in two (mapreduce.job.maps=2): the bad
    // record is the first whole line of the second split.
    assert!(
        failed.stderr.contains("business.json, line 2")
            || failed.stderr.contains("business.json, line 1 of the split from byte"),
        "-r hadoop on YARN: the error does not place the record:\n{}",
        tail(&failed.stderr, 30)
    );
    for want in ["step 1", "bad record at", "invalid JSON record", "on Hadoop"] {
        assert!(
            failed.stderr.contains(want),
            "-r hadoop on YARN: the error lacks {want:?}:\n{}",
            tail(&failed.stderr, 30)
        );
    }
    eprintln!(
        "hadoop: a failing mapper's own error came back in {:.1} s: {}",
        failed.seconds,
        failed.stderr.trim()
    );
    eprintln!("summary:\n  {}", summary.join("\n  "));
    drop(cluster);
}

#[test]
fn spark_standalone_with_two_workers_prints_what_the_local_runner_prints() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let temp = tempfile::tempdir().unwrap();
    let work = temp.path().to_path_buf();
    install(&work);
    let inputs = generate(&work);
    let cluster = Cluster::start(
        "engines/spark/standalone.sh",
        temp,
        &["master.log", "worker1.log", "worker2.log"],
    );
    let master = cluster.started.trim().to_owned();
    assert!(
        master.starts_with("spark://127.0.0.1:"),
        "standalone.sh start printed {master:?}"
    );
    let submit = repo().join("engines/spark/spark-submit");

    let mut summary = Vec::new();
    for (job, reducers) in JOBS {
        let input = inputs.local(job);
        let expected = local_output(&work, job, input, reducers);
        let mut cmd = Command::new(mr_run());
        cmd.arg(job)
            .arg(input)
            .args(["-r", "spark", "--spark-submit"])
            .arg(&submit)
            .args(["--spark-master", &master, "--reducers", &reducers.to_string(), "-q"])
            .current_dir(&work);
        let ran = run_equal(cmd, &work, "spark", job, &expected);
        let line = format!("spark {job} --reducers {reducers}: {:.1} s wall", ran.seconds);
        eprintln!("{line}");
        summary.push(line);
    }
    let joins = join_cases(&work, &inputs.yelp);
    for (job, args, expected) in &joins {
        let mut cmd = Command::new(mr_run());
        cmd.arg(job)
            .args(args)
            .args(["-r", "spark", "--spark-submit"])
            .arg(&submit)
            .args(["--spark-master", &master])
            .current_dir(&work);
        let ran = run_equal(cmd, &work, "spark", job, expected);
        let line = format!("spark {job} --reducers 2: {:.1} s wall", ran.seconds);
        eprintln!("{line}");
        summary.push(line);
    }
    // Both workers ran executors (each application has a directory in
    // every worker's --work-dir it ran on).
    for n in [1, 2] {
        let apps = std::fs::read_dir(cluster.dir.join(format!("worker{n}")))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter(|e| e.file_name().to_string_lossy().starts_with("app-"))
                    .count()
            })
            .unwrap_or(0);
        assert_eq!(
            apps,
            JOBS.len() + joins.len(),
            "worker {n} ran executors for {apps} of the {} applications",
            JOBS.len() + joins.len()
        );
    }
    eprintln!("summary:\n  {}", summary.join("\n  "));
    drop(cluster);
}
