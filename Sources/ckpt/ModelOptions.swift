import ArgumentParser

/// `--model` and `--config`, shared by the commands that map names through a family's table.
struct ModelOptions: ParsableArguments {
    @Option(help: "Model family, or auto to detect it from the names (and the config when they are ambiguous).")
    var model = "auto"

    @Option(help: "The model's JSON config (default: bert_config.json, config.json... beside the checkpoint).")
    var config: String?
}
