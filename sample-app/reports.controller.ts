import { Controller, Param, Post } from '@nestjs/common';
import { ReportsService } from './reports.service';

@Controller('reports')
export class ReportsController {
  constructor(private readonly reports: ReportsService) {}

  @Post(':name')
  build(@Param('name') name: string) {
    return this.reports.build(name);
  }
}
