use sea_orm_migration::prelude::*;

use crate::timestamps::{flag, id, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Webhooks {
    Table,
    Id,
    Name,
    Kind,
    UrlEncrypted,
    UrlHint,
    SecretEncrypted,
    Enabled,
    LastStatus,
    LastError,
    LastAttemptAt,
    CreatedAt,
    UpdatedAt,
}

/// Where alerts are sent: a generic JSON POST or an office robot (WeCom, DingTalk, Feishu).
/// The URL carries the robot's token and the signing secret is a credential, so both are
/// stored encrypted like provider keys; `url_hint` (scheme and host) is what an admin sees.
/// The last delivery's outcome is kept on the row for the webhook list.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Webhooks::Table)
                    .if_not_exists()
                    .col(id(Webhooks::Id))
                    .col(ColumnDef::new(Webhooks::Name).string_len(100).not_null())
                    .col(ColumnDef::new(Webhooks::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(Webhooks::UrlEncrypted).text().not_null())
                    .col(ColumnDef::new(Webhooks::UrlHint).string_len(300).not_null())
                    .col(ColumnDef::new(Webhooks::SecretEncrypted).text().null())
                    .col(flag(Webhooks::Enabled, true))
                    .col(ColumnDef::new(Webhooks::LastStatus).string_len(16).null())
                    .col(ColumnDef::new(Webhooks::LastError).text().null())
                    .col(
                        ColumnDef::new(Webhooks::LastAttemptAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(timestamp(Webhooks::CreatedAt))
                    .col(timestamp(Webhooks::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Webhooks::Table).to_owned())
            .await
    }
}
