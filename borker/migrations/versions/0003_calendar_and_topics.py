"""Add calendar entries, workflow runs, topic usage, each item's topic and Slack sync state.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("slot_index", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("local_time", sa.String(5), nullable=True),
        sa.Column("pool", sa.String(200), nullable=True),
        sa.Column("content_item_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_calendar_entries"),
        sa.UniqueConstraint("day", "slot_index", name="uq_calendar_entries_day_slot"),
    )
    op.create_index("ix_calendar_entries_day", "calendar_entries", ["day"])
    op.create_table(
        "workflow_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_workflow_runs"),
        sa.UniqueConstraint("kind", "day", name="uq_workflow_runs_kind_day"),
    )
    op.create_table(
        "topic_usage",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pool", sa.String(200), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_topic_usage"),
        sa.UniqueConstraint("pool", "title", name="uq_topic_usage_pool_title"),
    )
    with op.batch_alter_table("content_items") as batch:
        batch.add_column(sa.Column("slack_synced_version", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("pool", sa.String(200), nullable=True))
        batch.add_column(sa.Column("angle", sa.Text(), nullable=True))
        batch.add_column(sa.Column("selection_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("calendar_entry_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_content_items_calendar_entry_id_calendar_entries",
            "calendar_entries", ["calendar_entry_id"], ["id"], ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("content_items") as batch:
        batch.drop_constraint("fk_content_items_calendar_entry_id_calendar_entries", type_="foreignkey")
        batch.drop_column("calendar_entry_id")
        batch.drop_column("selection_reason")
        batch.drop_column("angle")
        batch.drop_column("pool")
        batch.drop_column("slack_synced_version")
    op.drop_table("topic_usage")
    op.drop_table("workflow_runs")
    op.drop_table("calendar_entries")
