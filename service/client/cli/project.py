"""`fcplane plan`, `deploy` and `rollback`: the commands that change what runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from service.client.cli.app import app
from service.client.cli.options import (
    Access,
    Account,
    Adopt,
    Environment,
    Merge,
    Message,
    Output_,
    Template,
    Token,
    Url,
    UseLocal,
    UseRemote,
    Yes,
    api_target,
    chosen_strategy,
    execute,
)
from service.client.output import Format

if TYPE_CHECKING:
    from service.client.output import Output


@app.command()
def plan(
    template: Template = None,
    env: Environment = None,
    access: Access = None,
    adopt: Adopt = False,
    detailed_exitcode: Annotated[
        bool,
        typer.Option(
            "--detailed-exitcode", help="Exit 0 without changes, 2 with changes, 1 on errors."
        ),
    ] = False,
    output: Output_ = Format.text,
    url: Url = None,
    token: Token = None,
) -> None:
    """Show what `fcplane deploy` would change, resource by resource.

    Uploads missing code packages and submits the s.yaml as a project revision (the
    same files are the same revision), then asks the server for the plan: per resource
    create / update / delete, the changes field by field, and what changed outside
    this checkout. Hooks do not run (`deploy` runs them).

    Examples:

      fcplane plan

      fcplane plan --env prod --detailed-exitcode   # in CI: 0 nothing to do, 2 changes

      fcplane plan -o json | jq .stale
    """

    def body(out: Output) -> int:
        from service.client.connection import Api
        from service.client.deploy import Target, plan_command
        from service.client.source import load

        project = load(template, env)
        with Api(api_target(url, token)) as api:
            code = plan_command(api, out, project, Target(None, access, env, adopt))
        return code if detailed_exitcode else 0

    execute(output, body)


@app.command()
def deploy(
    template: Template = None,
    env: Environment = None,
    access: Access = None,
    adopt: Adopt = False,
    use_local: UseLocal = False,
    use_remote: UseRemote = False,
    merge: Merge = False,
    yes: Yes = False,
    message: Message = None,
    skip_actions: Annotated[
        bool, typer.Option("--skip-actions", help="Do not run the s.yaml's hooks.")
    ] = False,
    output: Output_ = Format.text,
    url: Url = None,
    token: Token = None,
) -> None:
    """Deploy the s.yaml project: hooks, code upload, plan, deploy, lock file.

    Runs the `pre-deploy` run actions, zips each code directory (deterministically:
    unchanged code is not uploaded again), uploads what the server lacks, shows the
    plan and deploys it with the project revision in .fcplane/lock.json as its base,
    then runs the `success`/`fail`/`complete` actions. On a conflict (the function was
    changed outside this checkout) a terminal asks use-local / use-remote / merge /
    abort; without a terminal, or with --yes, it fails (exit 1) unless a flag decides.

    Examples:

      fcplane deploy

      fcplane deploy --merge --yes                  # CI: merge console edits, ask nothing

      fcplane deploy --env prod -m "release 42"
    """

    def body(out: Output) -> int:
        from service.client.deploy import Target
        from service.client.flows import deploy_project

        strategy = chosen_strategy(use_local, use_remote, merge)
        target = Target(None, access, env, adopt)
        return deploy_project(
            out, api_target(url, token), template, target, strategy, yes, message, skip_actions
        )

    execute(output, body)


@app.command()
def rollback(
    to: Annotated[int, typer.Option("--to", help="The revision to deploy again.")],
    function: Annotated[
        str | None,
        typer.Argument(help="A function: roll it back alone. Default: the whole project."),
    ] = None,
    template: Template = None,
    env: Environment = None,
    access: Access = None,
    account: Account = None,
    use_local: UseLocal = False,
    use_remote: UseRemote = False,
    merge: Merge = False,
    yes: Yes = False,
    message: Message = None,
    output: Output_ = Format.text,
    url: Url = None,
    token: Token = None,
) -> None:
    """Deploy an earlier revision again: of the project, or of one function.

    Without FUNCTION, project revision N of ./s.yaml's project is deployed to the
    account (hooks do not run; code is not rebuilt: the revision names its packages).
    With FUNCTION, that function's revision N becomes its new head. Conflicts are
    handled as by `deploy`.

    Examples:

      fcplane revisions && fcplane rollback --to 3

      fcplane rollback hello --to 2 -A prod --yes
    """

    def body(out: Output) -> int:
        from service.client.flows import rollback as do_rollback

        strategy = chosen_strategy(use_local, use_remote, merge)
        return do_rollback(
            out,
            api_target(url, token),
            to,
            function,
            template,
            env,
            access,
            account,
            strategy,
            yes,
            message,
        )

    execute(output, body)
